import type { Context } from 'hono'
import { EMULATOR_APP_ID, EMULATOR_APP_SECRET, emulatorStub } from './emulator/stub'
import { type Logger, WxaAuthError } from './errors'
import { durableAuthority, durableClaims, type SessionAuthority } from './session/authority'
import { type IdentityStore, identityStore } from './session/identities'
import type { UserSessions } from './session/object'
import type { SessionPolicy } from './session/record'
import { type SessionReplica, sessionReplica } from './session/replica'
import { createCipher } from './storage/cipher'
import { MIN_TTL } from './storage/keys'
import { sealedKv } from './storage/sealed-kv'
import { checkSecret, parseSecrets, type SigningSecret } from './token/keys'
import { type DefaultUser, defaultHooks, type UserHooks } from './user/hooks'
import { registerSecret } from './util/redact'
import { type AccessTokenCache, accessTokenCache } from './wechat/access-token'
import { createWeChatClient, DEFAULT_TIMEOUT_MS, type WeChatClient } from './wechat/client'
import { encodingAesKeyBytes, importPushKey, type PushKey } from './wechat/push'
import { type PushClaims, pushClaims } from './wechat/push-claims'

export const DEFAULT_SESSION_TTL = 30 * 24 * 60 * 60 // 30 days, seconds
export const DEFAULT_ISSUER = 'wxa-auth'
export const DEFAULT_MAX_SESSIONS = 10 // per user
export const DEFAULT_SESSION_CACHE_SECONDS = 5 // in-isolate reuse of a session record
export const DEFAULT_SESSION_MAX_AGE = 90 * 24 * 60 * 60 // 90 days from login, seconds
export const DEFAULT_MAX_SESSION_BYTES = 16 * 1024 // serialized session data, bytes of UTF-8
export const DEFAULT_REFRESH_GRACE = 30 // seconds a replaced token may still refresh

/** The bindings and variables the deployable Worker reads (wrangler.toml, secrets). */
export interface WxaBindings {
  /** KV namespace: the sessions' read replica, identities and the WeChat access token. */
  SESSIONS: KVNamespace
  /** The session authority: one `UserSessions` Durable Object per user. */
  USER_SESSIONS?: DurableObjectNamespace<UserSessions>
  /** `edge` (default): reads from KV, the object on a miss; `strict`: every request asks the object. */
  SESSION_CONSISTENCY?: string
  /** `openid` (default): the default user is per (appid, openid); `unionid`: per unionid when there is one. */
  IDENTITY?: string
  /** The AppID; several, separated by spaces, for several mini programs (the first is the default). */
  WECHAT_APP_ID?: string
  /** Secret: the AppSecret of the one app. */
  WECHAT_APP_SECRET?: string
  /** Secret: `appid:secret appid:secret …`, for several apps. */
  WECHAT_APP_SECRETS?: string
  /** Base URL of the WeChat API (a relay, the emulator): https, or http to localhost only. */
  WECHAT_API_BASE?: string
  /** Milliseconds before a WeChat call is abandoned. */
  WECHAT_TIMEOUT_MS?: string
  /** Secret: the Token of the message push settings (消息推送); unset = no `/wechat/events`. */
  WECHAT_EVENT_TOKEN?: string
  /** Secret: the EncodingAESKey of those settings (43 characters); needed for encrypted pushes. */
  WECHAT_EVENT_AES_KEY?: string
  /** Secret: one HS256 secret, kid `main`. */
  JWT_SECRET?: string
  /** Secret: `kid:secret kid:secret …`, newest first; wins over JWT_SECRET. */
  JWT_SECRETS?: string
  JWT_ISSUER?: string
  JWT_AUDIENCE?: string
  /** Session lifetime in seconds; refresh extends it. */
  SESSION_TTL?: string
  /** Seconds from login after which a session ends, however often it was refreshed. */
  SESSION_MAX_AGE?: string
  /** The most session data may weigh, serialized, in bytes. */
  MAX_SESSION_BYTES?: string
  /** Secret: the key of KV records (AES-GCM, derived with HKDF). */
  STORAGE_SECRET?: string
  /** Sessions a user may hold at once; the oldest goes first. */
  MAX_SESSIONS?: string
  /** Seconds after a refresh in which the token it replaced may refresh again (a lost answer); 0 = none. */
  REFRESH_GRACE_SECONDS?: string
  /** Seconds an isolate reuses a session record it read; 0 = always ask KV. */
  SESSION_CACHE_SECONDS?: string
  /** Rate limiter for logins, keyed by client address (wrangler.toml `ratelimits`). */
  LOGIN_RATE_LIMITER?: RateLimit
  /** Rate limiter for per-user WeChat calls (decrypt, phone), keyed by user. */
  USER_RATE_LIMITER?: RateLimit
  /** Present in the dev environment only: the WeChat emulator. */
  WECHAT_EMULATOR?: DurableObjectNamespace
}

/** One mini program: its WeChat client and its cached access token. */
export interface WxaApp {
  appId: string
  wechat: WeChatClient
  /** The stable access token, cached in KV (`wx:access_token:<appid>`). */
  accessToken: AccessTokenCache
}

/** WeChat's message push to `/wechat/events`: the Token, the AES key and the replay markers. */
export interface WxaEventsConfig {
  /** Signs the URL check and every push. */
  token: string
  /** The EncodingAESKey, imported once; null when not set (plain mode only). */
  key(): Promise<PushKey | null>
  /** Signed queries and events already seen, claimed atomically. */
  claims: PushClaims
}

/** Everything wxa-auth needs at run time, resolved and checked. */
export interface WxaConfig {
  /** The default app: logins that name none are for it. */
  appId: string
  /** Each app the deployment serves, by AppID. */
  apps: ReadonlyMap<string, WxaApp>
  secrets: SigningSecret[]
  issuer: string
  audience: string
  /** Seconds. */
  sessionTtl: number
  /** The session rules' numbers: lifetime, absolute lifetime, data size, the cap. */
  policy: SessionPolicy
  /** `edge`: read sessions from KV (the object on a miss); `strict`: from the object every time. */
  consistency: 'edge' | 'strict'
  /** The only writer of session state. */
  authority: SessionAuthority
  /** The edge's read path of sessions: isolate cache, then KV. */
  replica: SessionReplica
  /** The newest session_key per (appid, openid), and unionid links. */
  identities: IdentityStore
  /** What keys the default user: `openid` (per app) or `unionid` (across apps, when there is one). */
  identity: 'openid' | 'unionid'
  /** Workers Rate Limiting bindings; a missing one does not limit. */
  rateLimits: { login?: RateLimit; user?: RateLimit }
  /** The message push endpoint; null (its routes answer 404) without WECHAT_EVENT_TOKEN. */
  events: WxaEventsConfig | null
}

const APP_ID = /^wx[\w-]{1,40}$/

/** AppID -> AppSecret of every configured app, the default first. */
function appSecrets(env: WxaBindings, emulated: boolean): Map<string, string> {
  const ids = (env.WECHAT_APP_ID ?? '').trim().split(/\s+/).filter(Boolean)
  if (emulated && ids.length === 0) ids.push(EMULATOR_APP_ID)
  if (ids.length === 0) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'WECHAT_APP_ID is not set. Set it in wrangler.toml [vars].',
    )
  }
  const bad = ids.findIndex((id) => !APP_ID.test(id))
  if (bad >= 0) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      `WECHAT_APP_ID: entry ${bad + 1} is not an AppID (wx followed by letters and digits).`,
    )
  }
  if (emulated) return new Map(ids.map((id) => [id, EMULATOR_APP_SECRET]))
  const pairs = new Map(
    (env.WECHAT_APP_SECRETS ?? '')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((item, i) => {
        const at = item.indexOf(':')
        if (at < 1 || at === item.length - 1) {
          throw new WxaAuthError(
            'CONFIG_INVALID',
            `WECHAT_APP_SECRETS: entry ${i + 1} is not appid:secret (pairs separated by spaces).`,
          )
        }
        return [item.slice(0, at), item.slice(at + 1)] as const
      }),
  )
  if (ids.length === 1 && env.WECHAT_APP_SECRET?.trim()) {
    pairs.set(ids[0] as string, env.WECHAT_APP_SECRET.trim())
  }
  if ([...pairs.values()].some((secret) => /\s/.test(secret))) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'WECHAT_APP_SECRET contains whitespace (a space or a line break pasted with it?).',
    )
  }
  const missing = ids.find((id) => !pairs.get(id))
  if (missing) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      ids.length === 1
        ? 'WECHAT_APP_SECRET is not set. Set it with `wrangler secret put WECHAT_APP_SECRET`.'
        : `WECHAT_APP_SECRETS has no secret for ${missing} (appid:secret, separated by spaces).`,
    )
  }
  return new Map(ids.map((id) => [id, pairs.get(id) as string]))
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * The WeChat API base: https, or plain http to this machine (a local relay or
 * emulator). Anything else would send the AppSecret in cleartext, or make
 * fetch throw an error that quotes the secret-bearing URL.
 */
function apiBase(value: string | undefined): string | undefined {
  if (!value) return undefined
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {}
  if (
    !url ||
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    !(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)))
  ) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'WECHAT_API_BASE must be an https:// URL without credentials or query (http:// only for localhost and 127.0.0.1).',
    )
  }
  return value
}

// WeChat allows 3 to 32 letters and digits; we ask for all 32, generated: in
// plain mode the Token is all that signs a push that can cancel an account.
const EVENT_TOKEN = /^[A-Za-z0-9]{32}$/

/** The message push settings, or null when WECHAT_EVENT_TOKEN is not set. */
function eventsConfig(
  env: WxaBindings,
  namespace: NonNullable<WxaBindings['USER_SESSIONS']>,
): WxaEventsConfig | null {
  const token = env.WECHAT_EVENT_TOKEN?.trim()
  const aesKey = env.WECHAT_EVENT_AES_KEY?.trim()
  if (!token) {
    if (aesKey) {
      throw new WxaAuthError(
        'CONFIG_INVALID',
        'WECHAT_EVENT_AES_KEY is set but WECHAT_EVENT_TOKEN is not: set both (message push settings).',
      )
    }
    return null
  }
  if (!EVENT_TOKEN.test(token)) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'WECHAT_EVENT_TOKEN must be the Token of the message push settings: 32 letters or digits, generated (`openssl rand -hex 16`).',
    )
  }
  checkSecret('WECHAT_EVENT_TOKEN', token)
  registerSecret(aesKey)
  if (aesKey && !encodingAesKeyBytes(aesKey)) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'WECHAT_EVENT_AES_KEY must be the EncodingAESKey of the message push settings: 43 base64 characters that decode to 32 bytes.',
    )
  }
  let key: Promise<PushKey> | undefined
  return {
    token,
    async key() {
      if (!aesKey) return null
      key ??= importPushKey(aesKey)
      return key
    },
    claims: pushClaims(durableClaims(namespace), { secret: token }),
  }
}

function whole(value: string | undefined, name: string, min: number, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) {
    throw new WxaAuthError('CONFIG_INVALID', `${name} must be a whole number >= ${min}.`)
  }
  return n
}

const cache = new WeakMap<object, WxaConfig>()
const byLog = new WeakMap<Logger, WeakMap<object, WxaConfig>>()
/** The configurations made with a custom `log`: its own, kept per env like the default's. */
const memoOf = (log: Logger) => {
  let memo = byLog.get(log)
  if (!memo) {
    memo = new WeakMap()
    byLog.set(log, memo)
  }
  return memo
}

/**
 * Builds the configuration from the Worker's environment, once per `env`.
 * Without `WECHAT_APP_SECRET` and with the emulator bound (the dev
 * environment), WeChat is the emulator, reached through the same client.
 *
 * @param options.memo where configurations are kept per env (a custom log
 *   needs its own); default: one shared map
 * @throws WxaAuthError `CONFIG_INVALID`, naming the variable at fault
 */
export function configFromEnv(
  env: WxaBindings,
  { log, memo = cache }: { log?: Logger; memo?: WeakMap<object, WxaConfig> } = {},
): WxaConfig {
  // Cached per env object: one per isolate in a Worker.
  const hit = memo.get(env)
  if (hit) return hit
  if (!env.SESSIONS) {
    throw new WxaAuthError('CONFIG_INVALID', 'The KV binding SESSIONS is missing (wrangler.toml).')
  }
  const emulated =
    env.WECHAT_EMULATOR !== undefined && !env.WECHAT_APP_SECRET && !env.WECHAT_APP_SECRETS
  const secrets = appSecrets(env, emulated)
  const appId = secrets.keys().next().value as string
  const timeoutMs = whole(env.WECHAT_TIMEOUT_MS, 'WECHAT_TIMEOUT_MS', 1, DEFAULT_TIMEOUT_MS)
  if (!env.USER_SESSIONS) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'The Durable Object binding USER_SESSIONS is missing (wrangler.toml, class UserSessions).',
    )
  }
  const consistency = env.SESSION_CONSISTENCY || 'edge'
  if (consistency !== 'edge' && consistency !== 'strict') {
    throw new WxaAuthError('CONFIG_INVALID', 'SESSION_CONSISTENCY must be edge or strict.')
  }
  const identity = env.IDENTITY || 'openid'
  if (identity !== 'openid' && identity !== 'unionid') {
    throw new WxaAuthError('CONFIG_INVALID', 'IDENTITY must be openid or unionid.')
  }
  const cipher = createCipher(checkSecret('STORAGE_SECRET', env.STORAGE_SECRET))
  const kv = sealedKv(env.SESSIONS, cipher, log ? { log } : {})
  const sessionTtl = whole(env.SESSION_TTL, 'SESSION_TTL', MIN_TTL, DEFAULT_SESSION_TTL)
  const baseUrl = apiBase(env.WECHAT_API_BASE)
  const config: WxaConfig = {
    appId,
    apps: new Map(
      [...secrets].map(([id, appSecret]) => {
        const wechat = createWeChatClient({
          appId: id,
          appSecret,
          timeoutMs,
          ...(baseUrl ? { baseUrl } : {}),
          // A stub belongs to the request that made it: one per call.
          ...(emulated ? { fetch: (input, init) => emulatorStub(env).fetch(input, init) } : {}),
        })
        return [
          id,
          {
            appId: id,
            wechat,
            accessToken: accessTokenCache({ kv, wechat, appId: id, ...(log ? { log } : {}) }),
          },
        ]
      }),
    ),
    secrets: parseSecrets(env),
    issuer: env.JWT_ISSUER || DEFAULT_ISSUER,
    audience: env.JWT_AUDIENCE || appId,
    sessionTtl,
    policy: {
      ttl: sessionTtl,
      maxAge: whole(env.SESSION_MAX_AGE, 'SESSION_MAX_AGE', MIN_TTL, DEFAULT_SESSION_MAX_AGE),
      maxBytes: whole(env.MAX_SESSION_BYTES, 'MAX_SESSION_BYTES', 2, DEFAULT_MAX_SESSION_BYTES),
      maxSessions: whole(env.MAX_SESSIONS, 'MAX_SESSIONS', 1, DEFAULT_MAX_SESSIONS),
      grace: whole(env.REFRESH_GRACE_SECONDS, 'REFRESH_GRACE_SECONDS', 0, DEFAULT_REFRESH_GRACE),
    },
    consistency,
    authority: durableAuthority(env.USER_SESSIONS),
    replica: sessionReplica(kv, {
      cacheSeconds: whole(
        env.SESSION_CACHE_SECONDS,
        'SESSION_CACHE_SECONDS',
        0,
        DEFAULT_SESSION_CACHE_SECONDS,
      ),
    }),
    identities: identityStore(kv),
    identity,
    rateLimits: {
      ...(env.LOGIN_RATE_LIMITER ? { login: env.LOGIN_RATE_LIMITER } : {}),
      ...(env.USER_RATE_LIMITER ? { user: env.USER_RATE_LIMITER } : {}),
    },
    events: eventsConfig(env, env.USER_SESSIONS),
  }
  memo.set(env, config)
  return config
}

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
    config = (env: WxaBindings) => configFromEnv(env, log ? { log, memo: memoOf(log) } : {}),
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
