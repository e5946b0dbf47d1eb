// The Node server that the Dockerfile and scf_bootstrap run: wxa-auth's
// whole app (login, sessions, /me, WeChat's pushes) on @hono/node-server,
// configured from the environment (PORT, REDIS_URL, TRUST_PROXY,
// WECHAT_APP_ID, WECHAT_APP_SECRET, JWT_SECRET, STORAGE_SECRET and the other
// variables of the README). A missing or wrong variable, or a Redis it
// cannot use, stops it before it listens, with one line saying what to fix.
import { serve } from 'wxa-auth/node'

await serve()
