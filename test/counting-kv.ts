/** An object (the session authority) whose method calls add to `counts.calls`. */
export function countingCalls<T extends object>(target: T, counts: { calls: number }): T {
  return new Proxy(target, {
    get(object, prop) {
      const method = Reflect.get(object, prop) as (...args: unknown[]) => unknown
      return (...args: unknown[]) => {
        counts.calls++
        return method.apply(object, args)
      }
    },
  })
}

/** Counts of the calls made to a KV namespace. */
export type KvCounts = { get: number; put: number; delete: number; list: number }

/**
 * KV with its calls counted: the real namespace underneath, nothing
 * simulated. Used by the tests and by the benchmark.
 */
export function countingKv(
  kv: KVNamespace,
  counts: KvCounts = { get: 0, put: 0, delete: 0, list: 0 },
) {
  const counted = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        if (prop in counts) counts[prop as keyof KvCounts]++
        return value.apply(target, args)
      }
    },
  })
  return { kv: counted, counts }
}
