import type { RateLimiter } from '../runtime'
import { rateKey } from './keys'
import type { RedisConnection } from './redis'

export const DEFAULT_RATE_LIMIT = 30 // requests per window and key, as wrangler.toml's `ratelimits`
export const RATE_WINDOW_MS = 60_000 // one minute, the middleware's Retry-After

/**
 * A fixed-window {@link RateLimiter} in Redis: one counter per key and
 * minute (`INCR`, and `PEXPIREAT` at the window's end, in one MULTI), shared
 * by every process. At a window's edge a client may get up to twice the limit
 * within a minute; what it bounds is the rate over minutes.
 */
export function redisLimiter(
  connection: RedisConnection,
  prefix: string,
  { limit }: { limit: number },
): RateLimiter {
  return {
    async limit(key) {
      const window = Math.floor(Date.now() / RATE_WINDOW_MS)
      const counter = rateKey(prefix, key, window)
      // One key, one slot. No WAIT: a counter a failover loses lets a few more requests in.
      const [count] = await connection.exec(counter, [
        ['INCR', counter],
        ['PEXPIREAT', counter, String((window + 1) * RATE_WINDOW_MS + 1000)],
      ])
      return Number(count) <= limit
    },
  }
}

/** The same fixed window in this process's memory: for a single process without Redis. */
export function memoryLimiter({ limit }: { limit: number }): RateLimiter {
  let window = -1
  let counts = new Map<string, number>()
  return {
    async limit(key) {
      const now = Math.floor(Date.now() / RATE_WINDOW_MS)
      if (now !== window) {
        window = now
        counts = new Map()
      }
      const count = (counts.get(key) ?? 0) + 1
      counts.set(key, count)
      return count <= limit
    },
  }
}
