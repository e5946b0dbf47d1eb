import type { ObjectStore } from '../../storage/objects'

/** An R2 bucket (binding `AVATARS`) as the {@link ObjectStore} of avatars. */
export function r2Objects(bucket: R2Bucket): ObjectStore {
  return {
    async put(key, body, type) {
      await bucket.put(key, body, { httpMetadata: { contentType: type } })
    },
    async get(key) {
      const found = await bucket.get(key)
      if (!found) return null
      return {
        body: found.body,
        type: found.httpMetadata?.contentType ?? 'application/octet-stream',
        size: found.size,
      }
    },
    delete: (key) => bucket.delete(key),
  }
}
