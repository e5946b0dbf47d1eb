/** A stored object: its bytes and media type. */
export interface StoredObject {
  body: ReadableStream<Uint8Array> | Uint8Array
  type: string
  size: number
}

/**
 * Where avatars live: R2 on Workers (binding `AVATARS`), a directory on Node,
 * memory in tests. Keys are random, chosen by the core.
 */
export interface ObjectStore {
  put(key: string, body: Uint8Array, type: string): Promise<void>
  get(key: string): Promise<StoredObject | null>
  delete(key: string): Promise<void>
}
