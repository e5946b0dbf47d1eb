// The verify fast path on workerd, where there is no node:crypto: WebCrypto's
// HMAC (src/token/verifiers.ts webVerifier) against jose's jwtVerify, the
// table of test/unit/token-table.ts row for row, as Workers run it.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { signToken, verifyToken } from '../src/token/jwt'
import { importKeyRing } from '../src/token/keys'
import { useVerifier, verifier, webVerifier } from '../src/token/verifiers'
import {
  AUDIENCE,
  CLAIMS,
  forge,
  HEADER,
  ISSUER,
  NOW,
  OTHER,
  outcome,
  SECRET,
  TABLE,
} from './unit/token-table'

afterEach(() => {
  useVerifier(undefined)
  vi.restoreAllMocks()
})

describe('the verify fast path on Workers', () => {
  it("is WebCrypto's", () => {
    expect(verifier()).toBe(webVerifier)
  })

  it.each(TABLE)('%s: ends as jose ends', async (_name, token, expected) => {
    const byJose = await outcome(token, null)
    expect(byJose.outcome).toBe(expected)
    expect(await outcome(token, undefined)).toEqual(byJose)
  })

  it('decides a token wxa-auth signs, and a bad signature, with one verify each', async () => {
    const ring = await importKeyRing([{ kid: 'main', secret: SECRET }])
    const options = { issuer: ISSUER, audience: AUDIENCE, now: NOW }
    const token = await signToken(ring, { sub: 'u9', sid: 's9', exp: NOW + 600 }, options)
    // jose verifies with the same crypto.subtle.verify: a second call would be its own.
    const subtleVerify = vi.spyOn(crypto.subtle, 'verify')
    await expect(verifyToken(ring, token, options)).resolves.toMatchObject({ sub: 'u9' })
    expect(subtleVerify).toHaveBeenCalledTimes(1)
    await expect(outcome(forge(HEADER, CLAIMS, { secret: OTHER }), undefined)).resolves.toEqual({
      outcome: 'TOKEN_INVALID',
    })
    expect(subtleVerify).toHaveBeenCalledTimes(2)
  })
})
