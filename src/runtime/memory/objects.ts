import type { ObjectStore } from '../../storage/objects'

/** An {@link ObjectStore} in this process's memory: for tests and a single process. */
export function memoryObjects(): ObjectStore & { readonly size: number } {
  const objects = new Map<string, { body: Uint8Array; type: string }>()
  return {
    async put(key, body, type) {
      objects.set(key, { body: body.slice(), type })
    },
    async get(key) {
      const found = objects.get(key)
      return found ? { body: found.body.slice(), type: found.type, size: found.body.length } : null
    },
    async delete(key) {
      objects.delete(key)
    },
    get size() {
      return objects.size
    },
  }
}
