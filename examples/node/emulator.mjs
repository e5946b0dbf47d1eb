// The WeChat emulator as a plain Node server: `node examples/node/emulator.mjs`,
// the same as `npx wxa-auth-emulator` where wxa-auth is installed.
// Environment: PORT (default 8788), WECHAT_APP_ID and WECHAT_APP_SECRET (the
// apps it knows: others get 40013 / 40125), WECHAT_EVENT_TOKEN and
// WECHAT_EVENT_AES_KEY (to sign pushes), APP_URL (where `/__emulator/events`
// delivers them). Point the server's WECHAT_API_BASE at it.
import { runEmulator } from 'wxa-auth/testing/node'

await runEmulator()
