import { WxaAuthError } from '../errors'
import { base64url, bytesOf } from '../util/base64url'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A page's cursor: where the next page starts, opaque to the caller. */
export const encodeCursor = (position: readonly (string | number)[]): string =>
  base64url(encoder.encode(JSON.stringify(position)))

/**
 * The position a cursor of {@link encodeCursor} holds, checked against its
 * shape; undefined without one.
 *
 * @throws WxaAuthError `INVALID_REQUEST` for any other string (it is client input)
 */
export function decodeCursor<T extends readonly ('string' | 'number')[]>(
  cursor: string | undefined,
  shape: T,
): { [K in keyof T]: T[K] extends 'number' ? number : string } | undefined {
  if (cursor === undefined) return undefined
  let position: unknown
  try {
    if (!/^[\w-]{1,2048}$/.test(cursor)) throw new Error('not base64url')
    const binary = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'))
    position = JSON.parse(decoder.decode(bytesOf(binary)))
  } catch {}
  if (
    !Array.isArray(position) ||
    position.length !== shape.length ||
    position.some((value, i) =>
      shape[i] === 'number' ? !Number.isSafeInteger(value) : typeof value !== 'string',
    )
  ) {
    throw new WxaAuthError('INVALID_REQUEST', 'The cursor is not one this server gave.')
  }
  return position as never
}

/** A page's limit, 1–100. */
export function pageLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new WxaAuthError('INVALID_REQUEST', 'A page holds 1 to 100 entries.')
  }
  return limit
}
