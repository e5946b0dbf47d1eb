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

/**
 * Claims in Redis: `SET <key> <tag> NX PX <ttl>` claims an id atomically,
 * and a `GET` in the same MULTI says which tag holds it when it was taken
 * (`SET … NX GET` needs Redis 7; this works on 6 too).
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
    peek: (scope, id) =>
      guard(
        'peek',
        async () => {
          const key = claimKey(prefix, scope, id)
          const held = await connection.send(key, ['GET', key])
          return typeof held === 'string' ? held : null
        },
        false,
      ),
  }
}
