import type { Context } from 'hono'
import { BoundedMap } from './cache'
import { configFromEnv, type WxaBindings, type WxaConfig } from './config'
import type { Logger } from './errors'
import { base64url, type DefaultUser, defaultHooks, type UserHooks } from './hooks'

/**
 * Options shared by the middleware, the routes and `createApp`.
 * The hooks default to {@link DefaultUser}, which needs no user store.
 */
export interface WxaAuthOptions<User extends { id: string } = DefaultUser> extends UserHooks<User> {
  /**
   * Builds the configuration from the Worker's env. Called per request, so
   * cache inside it (the default caches per env object).
   * @default configFromEnv
   */
  config?: (env: WxaBindings) => WxaConfig
  /** The current time, unix seconds. Tests pass a clock; nothing else should. @default Date.now */
  now?: () => number
  /**
   * Where detail for operators goes (a 5xx's cause, WeChat's errcode, which
   * check failed); wxa-auth writes nowhere else. Never secrets. @default console
   */
  log?: Logger
}

/** The options with every default filled in. @internal */
export interface ResolvedOptions<User extends { id: string }> {
  config: (c: Context) => WxaConfig
  hooks: Required<UserHooks<User>>
  /** Whether the app brings its own `findOrCreateUser` (else: the default user, see `IDENTITY`). */
  ownUsers: boolean
  now: () => number
  log: Logger
}

/** @internal */
export function resolveOptions<User extends { id: string }>(
  options: WxaAuthOptions<User> = {},
): ResolvedOptions<User> {
  const {
    config = (env: WxaBindings) => configFromEnv(env, log ? { log } : {}),
    now = () => Math.floor(Date.now() / 1000),
    log,
    ...hooks
  } = options
  const defaults = defaultHooks as unknown as Required<UserHooks<User>>
  return {
    config: (c) => config(c.env as WxaBindings),
    hooks: {
      findOrCreateUser: hooks.findOrCreateUser ?? defaults.findOrCreateUser,
      userToClaims: hooks.userToClaims ?? defaults.userToClaims,
      claimsToUser: hooks.claimsToUser ?? defaults.claimsToUser,
      onUserInfo: hooks.onUserInfo ?? defaults.onUserInfo,
      onPhoneNumber: hooks.onPhoneNumber ?? defaults.onPhoneNumber,
      onDeleteAccount: hooks.onDeleteAccount ?? defaults.onDeleteAccount,
      onAuthorizationRevoked: hooks.onAuthorizationRevoked ?? defaults.onAuthorizationRevoked,
      onAccountCancelled: hooks.onAccountCancelled ?? defaults.onAccountCancelled,
      onUserInfoModified: hooks.onUserInfoModified ?? defaults.onUserInfoModified,
    },
    ownUsers: hooks.findOrCreateUser !== undefined,
    now,
    log: log ?? console,
  }
}

const HASHED_SESSION_IDS = 10_000 // per isolate
const hashed = new BoundedMap<string, string>(HASHED_SESSION_IDS)

/**
 * KV and the session objects hold only this hash of a session id, so read
 * access to them yields no live ids. Remembered per isolate: the same sid
 * always hashes the same, and a WebCrypto call costs a visible share of a
 * cached request.
 */
export async function hashSessionId(sid: string): Promise<string> {
  const hit = hashed.get(sid)
  if (hit) return hit
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(sid))
  const id = base64url(new Uint8Array(digest))
  hashed.set(sid, id)
  return id
}

/** A fresh session id: 256 random bits, base64url. */
export function newSessionId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)))
}
