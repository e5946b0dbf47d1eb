/**
 * Where an emulator keeps its state: a Durable Object's storage in workerd,
 * a map in a Node process. The three calls both have.
 */
export interface EmulatorStorage {
  get<T>(key: string): Promise<T | undefined>
  put(key: string, value: unknown): Promise<void>
  delete(key: string): Promise<unknown>
}

/** An emulator's state in this process's memory; values are copied in and out, as a store would. */
export function memoryStorage(): EmulatorStorage {
  const values = new Map<string, unknown>()
  return {
    get: async <T>(key: string) =>
      values.has(key) ? (structuredClone(values.get(key)) as T) : undefined,
    async put(key, value) {
      values.set(key, structuredClone(value))
    },
    delete: async (key) => values.delete(key),
  }
}
