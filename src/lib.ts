/**
 * The library surface of wxa-auth, for Hono apps that mount it. The
 * deployable Worker is `src/index.ts`.
 */
export { createApp } from './app'
export {
  configFromEnv,
  DEFAULT_SESSION_TTL,
  type WxaApp,
  type WxaAuthOptions,
  type WxaBindings,
  type WxaConfig,
  type WxaEventsConfig,
} from './config'
export {
  ERROR_STATUS,
  ERRORS,
  isWxaAuthError,
  type Logger,
  WxaAuthError,
  type WxaErrorCode,
} from './errors'
export { errorHandler, onError } from './middleware/on-error'
export { clientAddress, rateLimit } from './middleware/rate-limit'
export { requireLogin } from './middleware/require-login'
export { readToken, type WxaEnv, type WxaVariables, wxaSession } from './middleware/session'
export { describe as describeWxaRoute, type RouteSpec } from './openapi/describe'
export { type OpenApiDocument, openApiDocument } from './openapi/document'
export { authRoutes } from './routes/auth'
export { meRoutes } from './routes/me'
export { wechatDataRoutes } from './routes/wechat-data'
export { DEFAULT_EVENT_TOLERANCE, wechatEventRoutes } from './routes/wechat-events'
export {
  type ClaimStore,
  durableAuthority,
  durableClaims,
  type SessionAuthority,
} from './session/authority'
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
export { accessTokenKey, eventKey, identityKey, sessionRecordKey } from './storage/keys'
export { type SealedKv, sealedKv } from './storage/sealed-kv'
export type { TokenClaims } from './token/jwt'
export {
  type DefaultUser,
  defaultUserId,
  type UserHooks,
  unionUserId,
  type WeChatIdentity,
} from './user/hooks'
export {
  type AccessTokenCache,
  type AccessTokenCacheOptions,
  type AccessTokenRecord,
  accessTokenCache,
  DEFAULT_ACCESS_TOKEN_MARGIN,
} from './wechat/access-token'
export {
  type Code2SessionResult,
  createWeChatClient,
  DEFAULT_RETRIES,
  DEFAULT_RETRY_DELAY_MS,
  DEFAULT_TIMEOUT_MS,
  type PhoneNumber,
  redactUrl,
  type StableToken,
  WECHAT_API_BASE,
  type WeChatClient,
  type WeChatClientOptions,
  type WeChatErrorBody,
  wechatError,
} from './wechat/client'
export {
  type DecryptDataInput,
  decryptData,
  sessionKeySignature,
  type VerifySignatureInput,
  verifySignature,
} from './wechat/crypto'
export {
  AUTHORIZATION_EVENTS,
  type AuthorizationEvent,
  type AuthorizationEventName,
  authorizationEvent,
  type EventFields,
  type PushBody,
  type PushFields,
  readPushBody,
} from './wechat/events'
export {
  decryptPush,
  encodingAesKeyBytes,
  importPushKey,
  type OpenedPush,
  type PushKey,
  pushSignature,
  verifyPushSignature,
} from './wechat/push'
export { DEFAULT_PUSH_CLAIM_TTL, type PushClaims, pushClaims } from './wechat/push-claims'
export { parseWeChatXml, type XmlField, XmlShapeError } from './wechat/xml'
