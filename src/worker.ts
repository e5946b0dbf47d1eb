import { createApp } from './app'
import { cloudflare } from './runtime/cloudflare/runtime'
import { auditPurge } from './runtime/cloudflare/scheduled'

/**
 * The deployable Worker (wrangler.toml top level and `[env.production]`):
 * wxa-auth's routes and nothing for development. `npm run dev` and the
 * tests run `src/dev.ts`, which adds the emulators and the playground. Its
 * cron (wrangler.toml `[triggers]`) purges the audit log past retention.
 */
export default Object.assign(createApp({ runtime: cloudflare() }), { scheduled: auditPurge() })
export { UserSessions } from './runtime/cloudflare/object'
