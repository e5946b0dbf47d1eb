import { isWxaAuthError, type Logger } from '../../errors'
import { accessTokenKey, MIN_TTL } from '../../storage/keys'
import type { SealedKv } from '../../storage/sealed-kv'
import type { WeChatClient } from './client'

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
  /** Where the token is cached, sealed like every record: `sealedKv(env.SESSIONS, cipher)`. */
  kv: SealedKv
  wechat: Pick<WeChatClient, 'stableToken'>
  appId: string
  /** Seconds before WeChat's expiry that the cache drops the token. @default 300 */
  margin?: number
  /** Where a rejected cached token is reported. @default console */
  log?: Logger
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

/**
 * The stable access token, cached in KV below its `expires_in` and fetched at
 * most once at a time per isolate (concurrent callers share one fetch). The
 * token is never logged and never part of an error.
 * https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
 *
 * @example
 * ```ts
 * const tokens = accessTokenCache({ kv: sealedKv(env.SESSIONS, cipher), wechat, appId })
 * const phone = await tokens.withToken((token) => wechat.getPhoneNumber(token, code))
 * ```
 */
export function accessTokenCache(options: AccessTokenCacheOptions): AccessTokenCache {
  const {
    kv,
    wechat,
    appId,
    margin = DEFAULT_ACCESS_TOKEN_MARGIN,
    now = () => Math.floor(Date.now() / 1000),
    log = console,
  } = options
  const key = accessTokenKey(appId)

  /** The cached token unless it is `rejected` or expired; else a fresh one, cached. */
  async function load(rejected: string | undefined): Promise<string> {
    const cached = (await kv.get<AccessTokenRecord>(key))?.value
    if (cached && cached.accessToken !== rejected && cached.expiresAt > now()) {
      return cached.accessToken
    }
    if (cached) await kv.delete(key)
    const { accessToken, expiresIn } = await wechat.stableToken()
    const ttl = expiresIn - margin
    // Too close to its expiry to be worth a write: use it once, fetch again next time.
    if (ttl >= MIN_TTL) {
      const record: AccessTokenRecord = { v: 1, accessToken, expiresAt: now() + ttl }
      await kv.put(key, record, ttl)
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
        if (!isWxaAuthError(err, 'ACCESS_TOKEN_INVALID')) throw err
        log.warn('wxa-auth: WeChat rejected the cached access token; fetching a fresh one')
        return use(await token(first))
      }
    },
  }
}
