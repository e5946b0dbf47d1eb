import type { KvStore } from '../../storage/kv'

/**
 * A {@link KvStore} in this process's memory, with expiry: for tests, and for
 * a single Node process without Redis. Nothing survives a restart.
 */
export function memoryKv(): KvStore & { readonly size: number } {
  const entries = new Map<string, { value: string; until: number }>()
  const live = (key: string) => {
    const entry = entries.get(key)
    if (entry && entry.until <= Date.now()) entries.delete(key)
    return entries.get(key)
  }
  return {
    get: async (key) => live(key)?.value ?? null,
    async put(key, value, ttl) {
      entries.set(key, { value, until: Date.now() + ttl * 1000 })
    },
    async delete(key) {
      entries.delete(key)
    },
    list: async (prefix) =>
      [...entries.keys()].filter((key) => key.startsWith(prefix) && live(key)),
    get size() {
      return entries.size
    },
  }
}
