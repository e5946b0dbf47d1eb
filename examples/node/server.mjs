// wxa-auth on Node: `node examples/node/server.mjs`. The whole app (login,
// sessions, /me, WeChat's pushes) on @hono/node-server, sessions in Redis at
// REDIS_URL (without it: this process's memory, single process only).
// Environment: PORT, REDIS_URL, JWT_SECRET, STORAGE_SECRET, WECHAT_APP_ID,
// WECHAT_APP_SECRET, WECHAT_API_BASE and the other variables of the docs' Options page.
// In this repository run `npm run build:lib` first: the import below is the
// package's own name.
import { serve } from 'wxa-auth/node'

await serve()
