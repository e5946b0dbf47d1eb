#!/usr/bin/env node
// `npx wxa-auth-emulator`: the WeChat emulator of `wxa-auth/testing/node` as
// a process, configured from the environment (PORT, default 8788;
// WECHAT_APP_ID, WECHAT_APP_SECRET, WECHAT_EVENT_TOKEN, WECHAT_EVENT_AES_KEY,
// APP_URL). Point the server's WECHAT_API_BASE at it. Never in production.
import { runEmulator } from './emulator/node'

await runEmulator()
