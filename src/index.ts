/**
 * `wxa-auth`: mini program login and sessions for Hono apps, on any runtime.
 * The factory, the app, the errors, and the types of the hooks and the ports.
 * The runtimes' adapters are `wxa-auth/cloudflare` and `wxa-auth/node`, the
 * WeChat toolkit `wxa-auth/wechat`, the emulators `wxa-auth/testing`.
 */
export { createApp } from './app'
export type { Variables, WxaConfigVars } from './env'
export {
  ERROR_ALIASES,
  ERRORS,
  isWxaAuthError,
  type LegacyErrorCode,
  type Logger,
  WxaAuthError,
  type WxaErrorCode,
} from './errors'
export {
  type DefaultUser,
  defaultUserId,
  type PlatformIdentity,
  type UserHooks,
  type WeChatIdentity,
} from './hooks'
export type { WxaEnv, WxaVariables } from './middleware/session'
export { type AuditScope, recordAudit } from './operators/audit'
export {
  AUDIT_TYPES,
  type AuditFilter,
  type AuditLog,
  type AuditRecord,
  type AuditSettings,
  type AuditType,
  type Directory,
  type DirectoryEntry,
  type DirectoryQuery,
  type DirectoryUser,
  type Page,
  type StoredAuditRecord,
} from './operators/ports'
export type { WxaAuthOptions } from './options'
export type { PlatformName } from './platforms/index'
export type { PhoneNumber, PlatformApp, PlatformSession, Upstream } from './platforms/platform'
export type { AuthorizationEvent, AuthorizationEventName } from './platforms/wechat/events'
export type { RateLimiter, RuntimeParts, WxaRuntime } from './runtime/runtime'
export type { ClaimStore, SessionAuthority } from './session/authority'
export type {
  Ban,
  BanRefused,
  DeviceInfo,
  Outcome,
  SessionChange,
  SessionPolicy,
  SessionRecord,
  SessionSummary,
} from './session/record'
export type { Session } from './session/session'
export type { KvStore } from './storage/kv'
export type { TokenClaims } from './token/jwt'
export { VERSION } from './version'
export { type WxaAuth, wxaAuth } from './wxa-auth'
