import { emulatorUpstream, mountEmulator } from 'wxa-auth/testing'
import { makeApp } from './app'

// The development entry ([env.dev] in wrangler.toml): the same app talking to
// the WeChat emulator instead of WeChat, with its control surface on
// /__emulator, where tests get login codes. The production entry
// (src/index.ts) imports nothing from here.
const app = makeApp(emulatorUpstream())
mountEmulator(app)

export default app
export { UserSessions } from 'wxa-auth/cloudflare'
export { WeChatEmulator } from 'wxa-auth/testing'
