import { isWxaAuthError, WxaAuthError } from '../errors'
import type { Cipher } from '../session/cipher'
import { MIN_TTL } from '../session/store'
import type { WeChatClient } from './client'

/** KV key prefix of the cached stable access token: `wx:access_token:<appid>`. */
export const ACCESS_TOKEN_PREFIX = 'wx:access_token:'
/** How long before WeChat's `expires_in` the cached token is dropped. */
export const DEFAULT_ACCESS_TOKEN_MARGIN = 5 * 60 // seconds

/** The cached token as stored under `wx:access_token:<appid>`. */
export interface AccessTokenRecord {
  v: 1
  accessToken: string
  /** Unix seconds: WeChat's expiry minus the margin. */
  expiresAt: number
}

export interface AccessTokenCacheOptions {
  /** Where the token is cached (the `SESSIONS` namespace). */
  kv: KVNamespace
  wechat: Pick<WeChatClient, 'stableToken'>
  appId: string
  /** Seals the cached token like every KV record (`createCipher(STORAGE_SECRET)`). */
  cipher: Cipher
  /** Seconds before WeChat's expiry that the cache drops the token. @default 300 */
  margin?: number
  /** The current time, unix seconds. @default Date.now */
  now?: () => number
}

export interface AccessTokenCache {
  /**
   * Runs `use` with the access token; when WeChat rejects it (40001, 40014,
   * 42001) drops the cached token, fetches a fresh one and runs `use` once more.
   */
  withToken<T>(use: (accessToken: string) => Promise<T>): Promise<T>
}

/** Fetches in flight in this isolate, by appid and the token they replace. */
const inflight = new Map<string, Promise<string>>()

/** The KV key of `appId`'s cached token; the appid is URI-encoded like every key part. */
export const accessTokenKey = (appId: string) =>
  `${ACCESS_TOKEN_PREFIX}${encodeURIComponent(appId)}`

/**
 * The stable access token, cached in KV below its `expires_in` and fetched at
 * most once at a time per isolate (concurrent callers share one fetch). The
 * token is never logged and never part of an error.
 * https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
 *
 * @example
 * ```ts
 * const tokens = accessTokenCache({ kv: env.SESSIONS, wechat, appId })
 * const phone = await tokens.withToken((token) => wechat.getPhoneNumber(token, code))
 * ```
 */
export function accessTokenCache(options: AccessTokenCacheOptions): AccessTokenCache {
  const {
    kv,
    wechat,
    appId,
    cipher,
    margin = DEFAULT_ACCESS_TOKEN_MARGIN,
    now = () => Math.floor(Date.now() / 1000),
  } = options
  const key = accessTokenKey(appId)

  async function storage<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op()
    } catch (cause) {
      throw new WxaAuthError('STORAGE_UNAVAILABLE', undefined, {
        cause: new Error(`KV ${what} of the access token failed`, { cause }),
      })
    }
  }

  /** The cached token unless it is `rejected` or expired; else a fresh one, cached. */
  async function load(rejected: string | undefined): Promise<string> {
    const sealed = await storage('get', () => kv.get(key))
    const opened = sealed === null ? null : await cipher.open(sealed, key)
    const cached = opened === null ? null : (JSON.parse(opened) as AccessTokenRecord)
    if (cached && cached.accessToken !== rejected && cached.expiresAt > now()) {
      return cached.accessToken
    }
    if (sealed !== null) await storage('delete', () => kv.delete(key))
    const { accessToken, expiresIn } = await wechat.stableToken()
    const ttl = expiresIn - margin
    // Too close to its expiry to be worth a write: use it once, fetch again next time.
    if (ttl >= MIN_TTL) {
      const record: AccessTokenRecord = { v: 1, accessToken, expiresAt: now() + ttl }
      const value = await cipher.seal(JSON.stringify(record), key)
      await storage('put', () => kv.put(key, value, { expirationTtl: ttl }))
    }
    return accessToken
  }

  function token(rejected?: string): Promise<string> {
    const flight = `${appId}\n${rejected ?? ''}`
    let pending = inflight.get(flight)
    if (!pending) {
      pending = load(rejected).finally(() => inflight.delete(flight))
      inflight.set(flight, pending)
    }
    return pending
  }

  return {
    async withToken(use) {
      const first = await token()
      try {
        return await use(first)
      } catch (err) {
        if (!isWxaAuthError(err, 'WECHAT_ACCESS_TOKEN_INVALID')) throw err
        console.warn('wxa-auth: WeChat rejected the cached access token; fetching a fresh one')
        return use(await token(first))
      }
    },
  }
}
