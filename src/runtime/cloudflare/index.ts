/**
 * `wxa-auth/cloudflare`: the Workers adapters of wxa-auth's ports. The
 * runtime (`cloudflare()`), the session Durable Object your Worker exports,
 * and the adapters it is made of.
 */
export type { WxaBindings } from '../../env'
export { durableAuthority, durableClaims } from './authority'
export { D1_SCHEMA, d1Audit, d1Directory } from './d1'
export { workersKv } from './kv'
export { UserSessions } from './object'
export { r2Objects } from './r2'
export { bindingLimiter } from './rate-limit'
export { cloudflare } from './runtime'
export { auditPurge } from './scheduled'
