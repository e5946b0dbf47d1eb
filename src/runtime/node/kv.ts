import type { KvStore } from '../../storage/kv'
import { kvKey } from './keys'
import type { RedisConnection } from './redis'

/** Escapes what `SCAN … MATCH` reads as a pattern. */
const literal = (text: string) => text.replace(/[*?[\]\\]/g, (ch) => `\\${ch}`)

/**
 * Redis as the store of sealed records (identities, unionid links, the access
 * token): strings with a `PX` expiry, under `<prefix><key>`.
 */
export function redisKv(connection: RedisConnection, prefix: string): KvStore {
  return {
    get: async (key) => {
      const name = kvKey(prefix, key)
      const value = await connection.send(name, ['GET', name])
      return typeof value === 'string' ? value : null
    },
    // One key each, so one slot; confirmed by the replicas REDIS_WAIT_REPLICAS asks for.
    async put(key, value, ttl) {
      const name = kvKey(prefix, key)
      await connection.write(name, [['SET', name, value, 'PX', String(Math.ceil(ttl * 1000))]])
    },
    async delete(key) {
      const name = kvKey(prefix, key)
      await connection.write(name, [['DEL', name]])
    },
    async list(keyPrefix) {
      const names = await connection.keys(`${literal(kvKey(prefix, keyPrefix))}*`)
      return [...new Set(names.map((name) => name.slice(prefix.length)))]
    },
  }
}
