import { mountEmulator } from 'wxa-auth/testing'
import app from './index'

// The development entry ([env.dev] in wrangler.toml): the same app plus the
// WeChat emulator's control surface on /__emulator, where tests get login
// codes. The production entry (src/index.ts) imports nothing from here.
mountEmulator(app)

export default app
export { UserSessions } from 'wxa-auth'
export { WeChatEmulator } from 'wxa-auth/testing'
