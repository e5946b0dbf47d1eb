import { createApp } from './app'

/**
 * The deployable Worker (wrangler.toml top level and `[env.production]`):
 * wxa-auth's routes and nothing for development. `npm run dev` and the
 * tests run `src/dev.ts`, which adds the WeChat emulator and the playground.
 */
export default createApp()
export { UserSessions } from './session/object'
