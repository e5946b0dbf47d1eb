import type { SessionRecord } from './store'

/**
 * The session of one request, on `c.var.session`. Handlers read and change
 * its data; the middleware writes it back after the handler only if the data
 * changed. An anonymous request gets an empty session that is never written.
 */
export class Session {
  /** The session id from the token; null when anonymous. Secret: never show it. */
  readonly id: string | null
  /** The public id (the hash of `id`, as in KV and the device list); null when anonymous. */
  readonly publicId: string | null
  readonly #record: SessionRecord | null
  readonly #data: Record<string, unknown>
  readonly #original: string
  #ended = false

  constructor(
    id: string | null = null,
    publicId: string | null = null,
    record: SessionRecord | null = null,
  ) {
    this.id = id
    this.publicId = publicId
    this.#record = record
    this.#data = record ? structuredClone(record.data) : {}
    this.#original = JSON.stringify(this.#data)
  }

  /** Whether this request is authenticated and the session is live. */
  get active(): boolean {
    return this.#record !== null && !this.#ended
  }
  get userId(): string | null {
    return this.#record?.uid ?? null
  }
  /** The mini program the session belongs to. */
  get appId(): string | null {
    return this.#record?.appId ?? null
  }
  get openid(): string | null {
    return this.#record?.openid ?? null
  }
  get unionid(): string | null {
    return this.#record?.unionid ?? null
  }
  /** Unix seconds, or null when anonymous. */
  get expiresAt(): number | null {
    return this.#record?.expiresAt ?? null
  }

  get<T = unknown>(key: string): T | undefined {
    return this.#data[key] as T | undefined
  }
  /** Sets `key` to a JSON-serialisable value. */
  set(key: string, value: unknown): void {
    // An own property even for `__proto__`: session data is client-influenced.
    Object.defineProperty(this.#data, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  delete(key: string): void {
    delete this.#data[key]
  }
  /** A copy of all data. */
  all(): Record<string, unknown> {
    return structuredClone(this.#data)
  }

  /** Marks the session as ended (logout): it is not written back. */
  end(): void {
    this.#ended = true
  }

  /** The stored record with the current data. @internal */
  record(): SessionRecord | null {
    return this.#record && { ...this.#record, data: this.all() }
  }

  /** The record to write back, or null when nothing changed. @internal */
  changedRecord(): SessionRecord | null {
    if (!this.#record || this.#ended) return null
    const data = JSON.stringify(this.#data)
    if (data === this.#original) return null
    return { ...this.#record, data: JSON.parse(data) }
  }
}
