import { WxaAuthError } from '../../errors'
import type { ClaimStore } from '../../session/authority'
import { claimKey } from './keys'
import type { RedisConnection } from './redis'

async function guard<T>(what: string, op: () => Promise<T>, mutation: boolean): Promise<T> {
  try {
    return await op()
  } catch (cause) {
    throw new WxaAuthError(
      mutation ? 'STORAGE_OUTCOME_UNKNOWN' : 'STORAGE_UNAVAILABLE',
      undefined,
      {
        cause: new Error(`Redis claim ${what} failed`, { cause }),
        retryAfter: 1,
      },
    )
  }
}

/** Compare-and-set of a claim: while KEYS[1] holds ARGV[1], ARGV[2] for ARGV[3] ms, or freed (ARGV[2] empty). */
const SWAP = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`

/**
 * Claims in Redis: `SET <key> <tag> NX PX <ttl>` claims an id atomically,
 * and a `GET` in the same MULTI says which tag holds it when it was taken
 * (`SET … NX GET` needs Redis 7; this works on 6 too); a script swaps a
 * claim's tag only while it still carries the caller's.
 */
export function redisClaims(connection: RedisConnection, prefix: string): ClaimStore {
  return {
    claim: (scope, id, tag, ttl) =>
      guard(
        'claim',
        async () => {
          const key = claimKey(prefix, scope, id)
          // One key, one slot; confirmed by the replicas REDIS_WAIT_REPLICAS asks for.
          const [set, held] = await connection.write(key, [
            ['SET', key, tag, 'NX', 'PX', String(Math.ceil(ttl * 1000))],
            ['GET', key],
          ])
          return set === 'OK' ? null : typeof held === 'string' ? held : null
        },
        true,
      ),
    swap: (scope, id, tag, next, ttl) =>
      guard(
        'swap',
        async () => {
          const key = claimKey(prefix, scope, id)
          const ms = String(Math.max(1, Math.ceil(ttl * 1000)))
          // One key, one slot (EVAL routed by it on a cluster); under REDIS_WAIT_REPLICAS
          // the swap is confirmed by the replicas like a claim.
          const [swapped] = await connection.write(key, [
            ['EVAL', SWAP, '1', key, tag, next ?? '', ms],
          ])
          return swapped === 1
        },
        true,
      ),
  }
}
