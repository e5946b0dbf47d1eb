import type { KvStore } from '../../storage/kv'
import { kvKey } from './keys'
import type { RedisConnection } from './redis'

const SCAN_COUNT = '500' // keys per SCAN page

/** Escapes what `SCAN … MATCH` reads as a pattern. */
const literal = (text: string) => text.replace(/[*?[\]\\]/g, (ch) => `\\${ch}`)

/**
 * Redis as the store of sealed records (identities, unionid links, the access
 * token): strings with a `PX` expiry, under `<prefix><key>`.
 */
export function redisKv(connection: RedisConnection, prefix: string): KvStore {
  const send = async (args: string[]) => (await connection.shared()).sendCommand(args)
  return {
    get: async (key) => {
      const value = await send(['GET', kvKey(prefix, key)])
      return typeof value === 'string' ? value : null
    },
    async put(key, value, ttl) {
      await send(['SET', kvKey(prefix, key), value, 'PX', String(Math.ceil(ttl * 1000))])
    },
    async delete(key) {
      await send(['DEL', kvKey(prefix, key)])
    },
    async list(keyPrefix) {
      const match = `${literal(kvKey(prefix, keyPrefix))}*`
      const names: string[] = []
      let cursor = '0'
      do {
        const [next, page] = (await send([
          'SCAN',
          cursor,
          'MATCH',
          match,
          'COUNT',
          SCAN_COUNT,
        ])) as [string, string[]]
        cursor = String(next)
        for (const name of page) names.push(String(name).slice(prefix.length))
      } while (cursor !== '0')
      return [...new Set(names)]
    },
  }
}
