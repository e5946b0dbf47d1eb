import { makeApp } from './app'

// The production entry: the app, talking to WeChat.
export default makeApp()
// The Durable Object class of the USER_SESSIONS binding (wrangler.toml).
export { UserSessions } from 'wxa-auth/cloudflare'
