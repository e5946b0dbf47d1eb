import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { type Logger, WxaAuthError } from '../errors'
import type { ResolvedOptions } from '../options'
import type { RateLimiter } from '../runtime/runtime'
import type { Session } from '../session/session'

export const DEFAULT_RATE_LIMIT_PERIOD = 60 // seconds, as in wrangler.toml `ratelimits`

export interface RateLimitOptions {
  /** The limiter (a Workers Rate Limiting binding, Redis); when it returns undefined nothing is limited. */
  limiter: (c: Context) => RateLimiter | undefined
  /** What to count by: a client address, a user id. */
  key: (c: Context) => string
  /** Where a failing limiter is reported. @default console */
  log?: Logger
  /** Seconds the client is told to wait (the binding's period). @default 60 */
  retryAfter?: number
}

/**
 * What a client address is counted as: an IPv4 address as it is, an IPv6
 * address by its /64, since one subscriber holds a whole /64 and can pick a
 * fresh address in it for every request.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1] as string
  if (!address.includes(':')) return address
  const [head = '', tail = ''] = address.toLowerCase().split('::')
  const left = head ? head.split(':') : []
  const right = address.includes('::') ? (tail ? tail.split(':') : []) : []
  const groups = [
    ...left,
    ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'),
    ...right,
  ]
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}

let warnedNoAddress = false

const cloudflareAddress = (c: Context) => c.req.header('CF-Connecting-IP')

/**
 * The client's address, keyed by {@link addressKey}: as the runtime knows it
 * (`read`: the socket on Node, a trusted proxy's header), else as Cloudflare
 * saw it (`CF-Connecting-IP`). Without one (dev, tests, a proxy in front that
 * drops it) every client shares one `unknown` bucket; that is said once per
 * isolate in the log.
 */
export function clientAddress(
  c: Context,
  log: Logger = console,
  read: (c: Context) => string | undefined = cloudflareAddress,
): string {
  const address = read(c)
  if (address) return addressKey(address)
  if (!warnedNoAddress) {
    warnedNoAddress = true
    log.warn(
      'wxa-auth: a request without a client address (CF-Connecting-IP on Workers); the login rate limit counts all such requests together',
    )
  }
  return 'unknown'
}

/**
 * Counts requests with a {@link RateLimiter} and answers 429
 * `RATE_LIMITED` with `Retry-After` past the limit. When the limiter itself
 * fails the request goes through: a broken counter must not lock users out.
 */
export function rateLimit(options: RateLimitOptions) {
  const { limiter, key, retryAfter = DEFAULT_RATE_LIMIT_PERIOD, log = console } = options
  return createMiddleware(async function rateLimit(c, next) {
    const binding = limiter(c)
    if (binding) {
      let allowed = true
      try {
        allowed = await binding.limit(key(c))
      } catch (err) {
        log.warn(
          `wxa-auth: rate limiter failed; request allowed: ${err instanceof Error ? err.message : err}`,
        )
      }
      if (!allowed) throw new WxaAuthError('RATE_LIMITED', undefined, { retryAfter })
    }
    await next()
  })
}

/** The login limit (per client address) and the per-user limit of the platform calls. */
export function limits<User extends { id: string }>(resolved: ResolvedOptions<User>) {
  const { config, log } = resolved
  return {
    loginLimit: rateLimit({
      limiter: (c) => config(c).rateLimits.login,
      key: (c) => `login:${clientAddress(c, log, config(c).clientAddress)}`,
      log,
    }),
    userLimit: rateLimit({
      limiter: (c) => config(c).rateLimits.user,
      key: (c) => `user:${(c.var as unknown as { session: Session }).session.userId}`,
      log,
    }),
  }
}
