/**
 * The library surface of wxa-auth, for Hono apps that mount it. The
 * deployable Worker is `src/index.ts`.
 */
export { createApp } from './app'
export type { WxaAuthOptions } from './auth'
export {
  configFromEnv,
  DEFAULT_SESSION_TTL,
  type WxaApp,
  type WxaBindings,
  type WxaConfig,
} from './config'
export { ERROR_STATUS, isWxaAuthError, WxaAuthError, type WxaErrorCode } from './errors'
export type { DefaultUser, UserHooks, WeChatIdentity } from './hooks'
export { errorResponse, onError } from './middleware/on-error'
export { clientAddress, rateLimit } from './middleware/rate-limit'
export { requireLogin } from './middleware/require-login'
export { readToken, type WxaEnv, type WxaVariables, wxaSession } from './middleware/session'
export { openApiDocument, type RouteDoc } from './openapi'
export { authRoutes } from './routes/auth'
export { ROUTE_DOCS } from './routes/docs'
export { meRoutes } from './routes/me'
export { wechatDataRoutes } from './routes/wechat-data'
export { type Cipher, createCipher } from './session/cipher'
export { Session } from './session/session'
export { kvSessionStore, type SessionRecord, type SessionStore } from './session/store'
export type { TokenClaims } from './token/jwt'
export * from './wechat/access-token'
export * from './wechat/client'
export * from './wechat/crypto'
