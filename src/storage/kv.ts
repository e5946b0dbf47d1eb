/**
 * Where sealed records live: a key-value store with expiry. Workers KV is one
 * adapter (`wxa-auth/cloudflare`), Redis another (`wxa-auth/node`), memory a
 * third (`wxa-auth/testing`). Values are opaque strings (sealed by the core);
 * `ttl` is in seconds and never below 60.
 */
export interface KvStore {
  get(key: string): Promise<string | null>
  put(key: string, value: string, ttl: number): Promise<void>
  delete(key: string): Promise<void>
  /** Every key under `prefix`, all pages. */
  list(prefix: string): Promise<string[]>
}
