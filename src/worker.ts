import { createApp } from './app'
import { cloudflare } from './runtime/cloudflare/runtime'

/**
 * The deployable Worker (wrangler.toml top level and `[env.production]`):
 * wxa-auth's routes and nothing for development. `npm run dev` and the
 * tests run `src/dev.ts`, which adds the emulators and the playground.
 */
export default createApp({ runtime: cloudflare() })
export { UserSessions } from './runtime/cloudflare/object'
