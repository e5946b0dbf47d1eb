import type { KvStore } from '../../storage/kv'

/** Workers KV as the store of sealed records. Read without `cacheTtl`: see the README on revocation. */
export function workersKv(namespace: KVNamespace): KvStore {
  return {
    get: (key) => namespace.get(key),
    put: (key, value, ttl) => namespace.put(key, value, { expirationTtl: ttl }),
    delete: (key) => namespace.delete(key),
    async list(prefix) {
      const names: string[] = []
      let cursor: string | undefined
      do {
        const page = await namespace.list({ prefix, ...(cursor ? { cursor } : {}) })
        names.push(...page.keys.map((k) => k.name))
        cursor = page.list_complete ? undefined : page.cursor
      } while (cursor)
      return names
    },
  }
}
