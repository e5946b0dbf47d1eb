import { EMULATOR_APP_ID, EMULATOR_APP_SECRET, emulatorStub } from './emulator/stub'
import { WxaAuthError } from './errors'
import { kvSessionStore, MIN_TTL, type SessionStore } from './session/store'
import { parseSecrets, type SigningSecret } from './token/keys'
import { type AccessTokenCache, accessTokenCache } from './wechat/access-token'
import { createWeChatClient, DEFAULT_TIMEOUT_MS, type WeChatClient } from './wechat/client'

export const DEFAULT_SESSION_TTL = 30 * 24 * 60 * 60 // 30 days, seconds
export const DEFAULT_ISSUER = 'wxa-auth'

/** The bindings and variables the deployable Worker reads (wrangler.toml, secrets). */
export interface WxaBindings {
  /** KV namespace for sessions, identities and the WeChat access token. */
  SESSIONS: KVNamespace
  WECHAT_APP_ID?: string
  /** Secret. */
  WECHAT_APP_SECRET?: string
  WECHAT_API_BASE?: string
  /** Milliseconds before a WeChat call is abandoned. */
  WECHAT_TIMEOUT_MS?: string
  /** Secret: one HS256 secret, kid `main`. */
  JWT_SECRET?: string
  /** Secret: `kid:secret kid:secret …`, newest first; wins over JWT_SECRET. */
  JWT_SECRETS?: string
  JWT_ISSUER?: string
  JWT_AUDIENCE?: string
  /** Session lifetime in seconds. */
  SESSION_TTL?: string
  /** Present in the dev environment only: the WeChat emulator. */
  WECHAT_EMULATOR?: DurableObjectNamespace
}

/** Everything wxa-auth needs at run time, resolved and checked. */
export interface WxaConfig {
  appId: string
  secrets: SigningSecret[]
  issuer: string
  audience: string
  /** Seconds. */
  sessionTtl: number
  store: SessionStore
  wechat: WeChatClient
  /** The stable access token, cached in KV (`wx:access_token:<appid>`). */
  accessToken: AccessTokenCache
}

function required(env: WxaBindings, name: 'WECHAT_APP_ID' | 'WECHAT_APP_SECRET'): string {
  const value = env[name]?.trim()
  if (!value) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      `${name} is not set. ${name === 'WECHAT_APP_SECRET' ? `Set it with \`wrangler secret put ${name}\`` : 'Set it in wrangler.toml [vars]'}.`,
    )
  }
  return value
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

/**
 * Builds the configuration from the Worker's environment, once per `env`.
 * Without `WECHAT_APP_SECRET` and with the emulator bound (the dev
 * environment), WeChat is the emulator, reached through the same client.
 *
 * @throws WxaAuthError `CONFIG_INVALID`, naming the variable at fault
 */
export function configFromEnv(env: WxaBindings): WxaConfig {
  const hit = cache.get(env)
  if (hit) return hit
  if (!env.SESSIONS) {
    throw new WxaAuthError('CONFIG_INVALID', 'The KV binding SESSIONS is missing (wrangler.toml).')
  }
  const emulated = env.WECHAT_EMULATOR !== undefined && !env.WECHAT_APP_SECRET
  const appId = emulated ? (env.WECHAT_APP_ID ?? EMULATOR_APP_ID) : required(env, 'WECHAT_APP_ID')
  const appSecret = emulated ? EMULATOR_APP_SECRET : required(env, 'WECHAT_APP_SECRET')
  const wechat = createWeChatClient({
    appId,
    appSecret,
    timeoutMs: whole(env.WECHAT_TIMEOUT_MS, 'WECHAT_TIMEOUT_MS', 1, DEFAULT_TIMEOUT_MS),
    ...(env.WECHAT_API_BASE ? { baseUrl: env.WECHAT_API_BASE } : {}),
    // A stub belongs to the request that made it: one per call.
    ...(emulated ? { fetch: (input, init) => emulatorStub(env).fetch(input, init) } : {}),
  })
  const config: WxaConfig = {
    appId,
    secrets: parseSecrets(env),
    issuer: env.JWT_ISSUER || DEFAULT_ISSUER,
    audience: env.JWT_AUDIENCE || appId,
    sessionTtl: whole(env.SESSION_TTL, 'SESSION_TTL', MIN_TTL, DEFAULT_SESSION_TTL),
    store: kvSessionStore(env.SESSIONS),
    wechat,
    accessToken: accessTokenCache({ kv: env.SESSIONS, wechat, appId }),
  }
  cache.set(env, config)
  return config
}
