// ADMIN_KEYS: parsed and checked as every secret is, and compared in
// constant time (digests of equal length, every key compared).
import { describe, expect, it } from 'vitest'
import { isWxaAuthError } from '../../src/errors'
import { adminKeyId, digestsEqual, parseAdminKeys } from '../../src/operators/admin-keys'

const KEY_OPS = 'cS3n1XzV8qL0mT5wR9pB2dK7hF4gJ6aY'
const KEY_ALT = 'Hq8Zr2Lk5Wm1Xv7Tb4Nc9Pd3Fs6Jg0Ey'

/** The CONFIG_INVALID message `value` is refused with. */
function refusal(value: string): string {
  try {
    parseAdminKeys(value)
  } catch (err) {
    if (isWxaAuthError(err, 'CONFIG_INVALID')) return err.message
    throw err
  }
  throw new Error('accepted')
}

describe('ADMIN_KEYS', () => {
  it('is comma-separated kid:key; unset or empty is none', () => {
    expect(parseAdminKeys(` ops:${KEY_OPS} , alt:${KEY_ALT},`)).toEqual([
      { kid: 'ops', key: KEY_OPS },
      { kid: 'alt', key: KEY_ALT },
    ])
    expect(parseAdminKeys(undefined)).toEqual([])
    expect(parseAdminKeys(' , ')).toEqual([])
  })

  it('refuses a weak key naming its kid, never the key', () => {
    for (const key of ['short-key-1234', 'a'.repeat(40), 'example-admin-key-0000000000000000']) {
      const message = refusal(`ops:${KEY_OPS},weak:${key}`)
      expect(message).toMatch(/^ADMIN_KEYS \(kid weak\) /)
      expect(message).not.toContain(key)
    }
  })

  it('refuses an entry without a kid, or a kid twice, by its position', () => {
    for (const value of [
      KEY_OPS,
      `:${KEY_OPS}`,
      `ops:${KEY_OPS},ops:${KEY_ALT}`,
      `o p:${KEY_OPS}`,
    ]) {
      const message = refusal(value)
      expect(message).toMatch(/^ADMIN_KEYS: entry \d is not kid:key/)
      expect(message).not.toContain(KEY_OPS)
    }
  })
})

describe('the key comparison', () => {
  it('compares digests of equal length only, every character', () => {
    const digest = 'q7Vn0l1Yb8cJtX2sHkP4wR6zE9mA3dF5gU0iO1jK2Lw'
    expect(digestsEqual(digest, digest)).toBe(true)
    expect(digestsEqual(digest, `${digest.slice(0, -1)}x`)).toBe(false)
    expect(digestsEqual(digest, `x${digest.slice(1)}`)).toBe(false)
    expect(digestsEqual(digest, digest.slice(0, -1))).toBe(false)
    expect(digestsEqual('', '')).toBe(true)
  })

  it('finds the kid of a configured key, and nothing for any other text', async () => {
    const keys = parseAdminKeys(`ops:${KEY_OPS},alt:${KEY_ALT}`)
    expect(await adminKeyId(keys, KEY_OPS)).toBe('ops')
    expect(await adminKeyId(keys, KEY_ALT)).toBe('alt')
    for (const wrong of [
      '',
      KEY_OPS.slice(0, -1),
      `${KEY_OPS}x`,
      KEY_OPS.toLowerCase(),
      `ops:${KEY_OPS}`,
    ]) {
      expect(await adminKeyId(keys, wrong)).toBeUndefined()
    }
    expect(await adminKeyId([], KEY_OPS)).toBeUndefined()
  })
})
