// base64url decoding on workerd, where Uint8Array.fromBase64 takes the place
// of atob (src/util/base64url.ts bytesOfBase64url): the same bytes, the same
// refusals, and a sealed KV record still opens only as it was sealed.
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createCipher } from '../src/storage/cipher'
import { base64url, bytesOf, bytesOfBase64url } from '../src/util/base64url'

const byAtob = (text: string) => bytesOf(atob(text.replace(/-/g, '+').replace(/_/g, '/')))

describe('bytesOfBase64url', () => {
  it('runs natively here', () => {
    expect(typeof (Uint8Array as unknown as { fromBase64?: unknown }).fromBase64).toBe('function')
  })

  it('decodes as atob does, the unused bits of the last character ignored', () => {
    for (let length = 0; length < 40; length++) {
      const text = base64url(new Uint8Array(randomBytes(length)))
      expect(bytesOfBase64url(text)).toEqual(byAtob(text))
      if (length % 3 === 0) continue
      const odd = `${text.slice(0, -1)}${text.at(-1) === '_' ? '-' : '_'}`
      expect(bytesOfBase64url(odd)).toEqual(byAtob(odd))
    }
  })

  it('refuses a length 1 more than a multiple of 4, as atob does', () => {
    expect(() => byAtob('AAAAA')).toThrow()
    expect(() => bytesOfBase64url('AAAAA')).toThrow()
  })
})

describe('a sealed record', () => {
  const cipher = createCipher(randomBytes(32).toString('base64url'))

  it('opens as sealed, and never changed, for another key, or malformed', async () => {
    const sealed = await cipher.seal('{"uid":"u1"}', 'session:u1:s')
    expect(await cipher.open(sealed, 'session:u1:s')).toBe('{"uid":"u1"}')
    expect(await cipher.open(sealed, 'session:u2:s')).toBeNull()
    const at = sealed.length - 5
    const changed = `${sealed.slice(0, at)}${sealed[at] === 'A' ? 'B' : 'A'}${sealed.slice(at + 1)}`
    expect(await cipher.open(changed, 'session:u1:s')).toBeNull()
    for (const malformed of ['v1.A.AAAA', 'v1.AAAAAAAAAAAAAAAA.A', 'v1.AAAA AAAAAAAAAAAA.AAAA']) {
      expect(await cipher.open(malformed, 'session:u1:s')).toBeNull()
    }
  })
})
