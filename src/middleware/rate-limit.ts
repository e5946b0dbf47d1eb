import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { WxaAuthError } from '../errors'

export const DEFAULT_RATE_LIMIT_PERIOD = 60 // seconds, as in wrangler.toml `ratelimits`

export interface RateLimitOptions {
  /** The Workers Rate Limiting binding; when it returns undefined nothing is limited. */
  limiter: (c: Context) => RateLimit | undefined
  /** What to count by: a client address, a user id. */
  key: (c: Context) => string
  /** Seconds the client is told to wait (the binding's period). @default 60 */
  retryAfter?: number
}

/** The client's address as Cloudflare saw it. */
export const clientAddress = (c: Context) => c.req.header('CF-Connecting-IP') ?? 'unknown'

/**
 * Counts requests with a Workers Rate Limiting binding and answers 429
 * `RATE_LIMITED` with `Retry-After` past the limit. When the limiter itself
 * fails the request goes through: a broken counter must not lock users out.
 */
export function rateLimit(options: RateLimitOptions) {
  const { limiter, key, retryAfter = DEFAULT_RATE_LIMIT_PERIOD } = options
  return createMiddleware(async function rateLimit(c, next) {
    const binding = limiter(c)
    if (binding) {
      let allowed = true
      try {
        allowed = (await binding.limit({ key: key(c) })).success
      } catch (err) {
        console.warn('wxa-auth: rate limiter failed; request allowed', err)
      }
      if (!allowed) throw new WxaAuthError('RATE_LIMITED', undefined, { retryAfter })
    }
    await next()
  })
}
