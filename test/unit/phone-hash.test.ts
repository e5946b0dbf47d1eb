// The directory's phone hash: one normal form for a platform's answer and for
// what an operator types, keyed by STORAGE_SECRET.
import { describe, expect, it } from 'vitest'
import { normalizePhone, phoneHash } from '../../src/operators/phone'

const KEY_A = 'Vq3xT9mR2kLp8sWz4nYb7cHf1dJg6aEu-phone-a'
const KEY_B = 'Vq3xT9mR2kLp8sWz4nYb7cHf1dJg6aEu-phone-b'

describe('normalizePhone', () => {
  it('writes a platform’s answer and an operator’s text alike', () => {
    const answer = { phoneNumber: '13800138000', purePhoneNumber: '13800138000', countryCode: '86' }
    expect(normalizePhone(answer)).toBe('+8613800138000')
    for (const typed of [
      '13800138000',
      '+86 138 0013 8000',
      '008613800138000',
      '+86-138-0013-8000',
    ]) {
      expect(normalizePhone(typed)).toBe('+8613800138000')
    }
    expect(
      normalizePhone({
        phoneNumber: '+1 2025550123',
        purePhoneNumber: '2025550123',
        countryCode: '1',
      }),
    ).toBe('+12025550123')
  })

  it('is null for what is not a number', () => {
    for (const typed of ['', 'alice', 'o-abc', '138001', '+1234567890123456', '12345678901']) {
      expect(normalizePhone(typed)).toBeNull()
    }
  })
})

describe('phoneHash', () => {
  it('is keyed: the same number under another secret hashes apart, and the number is not in it', async () => {
    const a = await phoneHash(KEY_A, '+8613800138000')
    expect(a).toMatch(/^[0-9a-f]{64}$/)
    expect(await phoneHash(KEY_A, '+8613800138000')).toBe(a)
    expect(await phoneHash(KEY_B, '+8613800138000')).not.toBe(a)
    expect(await phoneHash(KEY_A, '+8613800138001')).not.toBe(a)
    const unkeyed = Buffer.from(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode('+8613800138000')),
    ).toString('hex')
    expect(a).not.toBe(unkeyed)
  })
})
