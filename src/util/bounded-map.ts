/** How a {@link BoundedMap} weighs its entries, beyond counting them. */
export interface BoundedMapOptions<K, V> {
  /** The most the entries may weigh together, as `sizeOf` counts. @default Infinity */
  maxBytes?: number
  /** The weight of one entry, e.g. its string lengths. @default 0 */
  sizeOf?: (value: V, key: K) => number
}

/**
 * A bounded map that forgets its oldest entries first: enough for per-isolate
 * caches of exact results (the same input always gives the same answer).
 * Bounded by entries and, with `sizeOf`, by bytes: a few huge values must not
 * take an isolate's 128 MB. A value heavier than the whole budget is not kept.
 */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, { value: V; size: number }>()
  readonly #limit: number
  readonly #maxBytes: number
  readonly #sizeOf: (value: V, key: K) => number
  #bytes = 0

  constructor(
    limit: number,
    { maxBytes = Infinity, sizeOf = () => 0 }: BoundedMapOptions<K, V> = {},
  ) {
    this.#limit = limit
    this.#maxBytes = maxBytes
    this.#sizeOf = sizeOf
  }

  get(key: K): V | undefined {
    return this.#entries.get(key)?.value
  }

  set(key: K, value: V): void {
    this.delete(key)
    const size = this.#sizeOf(value, key)
    if (size > this.#maxBytes) return
    while (
      this.#entries.size > 0 &&
      (this.#entries.size >= this.#limit || this.#bytes + size > this.#maxBytes)
    ) {
      this.delete(this.#entries.keys().next().value as K)
    }
    this.#entries.set(key, { value, size })
    this.#bytes += size
  }

  delete(key: K): void {
    const entry = this.#entries.get(key)
    if (!entry) return
    this.#entries.delete(key)
    this.#bytes -= entry.size
  }

  get size(): number {
    return this.#entries.size
  }

  /** What the entries weigh together, as `sizeOf` counts. */
  get bytes(): number {
    return this.#bytes
  }
}
