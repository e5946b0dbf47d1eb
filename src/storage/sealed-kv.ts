import { type Logger, WxaAuthError } from '../errors'
import type { Cipher } from './cipher'
import type { KvStore } from './kv'

/** A JSON value read from KV, and its length in UTF-16 code units (for byte-bounded caches). */
export interface Sealed<T> {
  value: T
  size: number
}

/**
 * JSON records in Workers KV, sealed with a {@link Cipher}: KV values alone
 * reveal nothing. Every KV failure is `STORAGE_UNAVAILABLE` (503,
 * `Retry-After: 1`); a value that does not open is treated as absent.
 */
export interface SealedKv {
  get<T>(key: string): Promise<Sealed<T> | null>
  /** Writes `value` under `key` for `expirationTtl` seconds (≥ 60); returns its JSON length. */
  put(key: string, value: object, expirationTtl: number): Promise<number>
  delete(key: string): Promise<void>
  /** The keys under `prefix`, every page. */
  keys(prefix: string): Promise<string[]>
}

async function guard<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (cause) {
    // Already said (a change Redis's replicas did not confirm): kept as it is.
    if (cause instanceof WxaAuthError) throw cause
    // KV answers 429 past one write per second to a key: worth a quick retry by the client.
    throw new WxaAuthError('STORAGE_UNAVAILABLE', undefined, {
      cause: new Error(`KV ${what} failed`, { cause }),
      retryAfter: 1,
    })
  }
}

/**
 * Sealed records over a {@link KvStore}, shared by sessions, identities and
 * the access-token cache. The key is the cipher's additional data, so a value
 * copied to another key does not open.
 *
 * @param kv the store (Workers KV, Redis, memory)
 * @param cipher from `createCipher(STORAGE_SECRET)`
 */
export function sealedKv(
  kv: KvStore,
  cipher: Cipher,
  { log = console }: { log?: Logger } = {},
): SealedKv {
  return {
    async get<T>(key: string) {
      const sealed = await guard('get', () => kv.get(key))
      if (sealed === null) return null
      const plaintext = await cipher.open(sealed, key)
      if (plaintext === null) {
        log.warn(`wxa-auth: KV value of ${key.slice(0, key.indexOf(':') + 1)}… does not open`)
        return null
      }
      return { value: JSON.parse(plaintext) as T, size: plaintext.length }
    },
    async put(key, value, expirationTtl) {
      const json = JSON.stringify(value)
      const sealed = await cipher.seal(json, key)
      await guard('put', () => kv.put(key, sealed, expirationTtl))
      return json.length
    },
    delete: (key) => guard('delete', () => kv.delete(key)),
    keys: (prefix) => guard('list', () => kv.list(prefix)),
  }
}
