import { isWxaAuthError, WxaAuthError } from '../errors'

/**
 * `port` with every method's failure answered as `STORAGE_UNAVAILABLE` (503),
 * as the session authority's are: a Redis that times out under a directory
 * lookup is a storage fault, never a 500. Its errors stay as the cause.
 */
export function storageFaults<T extends object>(port: T): T {
  const wrapped = {} as Record<string, unknown>
  for (const [name, value] of Object.entries(port)) {
    wrapped[name] =
      typeof value === 'function'
        ? async (...args: unknown[]) => {
            try {
              return await value.apply(port, args)
            } catch (error) {
              if (isWxaAuthError(error)) throw error
              throw new WxaAuthError('STORAGE_UNAVAILABLE', undefined, { cause: error })
            }
          }
        : value
  }
  return wrapped as T
}
