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
  type WxaEventsConfig,
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
export { DEFAULT_EVENT_TOLERANCE, wechatEventRoutes } from './routes/wechat-events'
export { durableAuthority, type SessionAuthority } from './session/authority'
export { type IdentityRecord, type IdentityStore, identityStore } from './session/identities'
export { UserSessions } from './session/object'
export type {
  DeviceInfo,
  Outcome,
  SessionChange,
  SessionPolicy,
  SessionRecord,
  SessionSummary,
} from './session/record'
export { type SessionReplica, sessionReplica } from './session/replica'
export { rules as sessionRules, type SessionTable, type StoredSession } from './session/rules'
export { type PresentedSession, Session } from './session/session'
export { type Cipher, createCipher } from './storage/cipher'
export { accessTokenKey, eventKey, identityKey, sessionKey } from './storage/keys'
export { type SealedKv, sealedKv } from './storage/sealed-kv'
export type { TokenClaims } from './token/jwt'
export * from './wechat/access-token'
export * from './wechat/client'
export * from './wechat/crypto'
export * from './wechat/event-markers'
export * from './wechat/events'
export * from './wechat/push'
export * from './wechat/xml'
