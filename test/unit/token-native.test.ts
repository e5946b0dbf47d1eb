// The verify fast path (src/token/jwt.ts verifyFast) against jose's
// jwtVerify, with each runtime's crypto (src/token/verifiers.ts): node:crypto's
// HMAC as on Node, WebCrypto's as on Workers. The table of forged and odd
// tokens (./token-table.ts), each verified all three ways in the same process,
// must end the same way, code for code, and as the table says. The fast path decides only what
// it is sure of and hands the rest to jose: the counts show which path decided.
import { createHash, randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { hashSessionId } from '../../src/session/ids'
import { signToken, verifyToken } from '../../src/token/jwt'
import { importKeyRing } from '../../src/token/keys'
import {
  nativeVerifier,
  useVerifier,
  type Verifier,
  verifier,
  webVerifier,
} from '../../src/token/verifiers'
import { type NativeCrypto, nativeCrypto, useNativeCrypto } from '../../src/util/native-crypto'
import {
  AUDIENCE,
  CLAIMS,
  forge,
  HEADER,
  ISSUER,
  NOW,
  OTHER,
  SECRET,
  TABLE,
  valid,
  outcome as verifyWith,
} from './token-table'

const real = nativeCrypto()
/** HMAC calls of the fast path, by runtime. */
const hmacCalls = { native: 0, web: 0 }
/** `verifier` with its HMAC calls counted in `hmacCalls[name]`. */
function counted<K>(name: keyof typeof hmacCalls, verifier: Verifier<K>): Verifier<K> {
  return {
    ...verifier,
    hmac(key, data, signature) {
      hmacCalls[name]++
      return verifier.hmac(key, data, signature)
    },
  }
}
const PATHS = {
  jose: null,
  native: real && counted('native', nativeVerifier(real)),
  web: counted('web', webVerifier),
}

/** One verification by `path`. */
const outcome = (token: string, path: keyof typeof PATHS) =>
  verifyWith(token, PATHS[path] as Verifier | null)

afterEach(() => {
  useVerifier(undefined)
  vi.restoreAllMocks()
})

describe('the verify fast path against jose', () => {
  it('is there on Node', () => {
    expect(real).not.toBeNull()
  })

  it.each(TABLE)('%s: all three paths end the same', async (_name, token, expected) => {
    const byJose = await outcome(token, 'jose')
    expect(byJose.outcome).toBe(expected)
    expect(await outcome(token, 'native')).toEqual(byJose)
    expect(await outcome(token, 'web')).toEqual(byJose)
  })

  it.each(['native', 'web'] as const)(
    'decides a token wxa-auth signs by itself, and a bad signature (%s)',
    async (path) => {
      const ring = await importKeyRing([{ kid: 'main', secret: SECRET }])
      const token = await signToken(
        ring,
        { sub: 'u9', sid: 's9', exp: NOW + 600 },
        { issuer: ISSUER, audience: AUDIENCE, now: NOW },
      )
      // jose would verify with WebCrypto too: one call is the fast path's alone.
      const subtleVerify = vi.spyOn(crypto.subtle, 'verify')
      hmacCalls[path] = 0
      useVerifier(PATHS[path])
      const verified = await verifyToken(ring, token, {
        issuer: ISSUER,
        audience: AUDIENCE,
        now: NOW,
      })
      expect(verified).toMatchObject({ sub: 'u9', sid: 's9', iss: ISSUER, aud: AUDIENCE })
      expect(hmacCalls[path]).toBe(1)
      await expect(outcome(forge(HEADER, CLAIMS, { secret: OTHER }), path)).resolves.toEqual({
        outcome: 'TOKEN_INVALID',
      })
      expect(hmacCalls[path]).toBe(2)
      expect(subtleVerify).toHaveBeenCalledTimes(path === 'web' ? 2 : 0)
    },
  )

  it.each(['native', 'web'] as const)(
    'verifies with every key of a rotated ring (%s)',
    async (path) => {
      useVerifier(PATHS[path])
      const ring = await importKeyRing([
        { kid: 'new', secret: OTHER },
        { kid: 'main', secret: SECRET },
      ])
      await expect(
        verifyToken(ring, valid, { issuer: ISSUER, audience: AUDIENCE, now: NOW }),
      ).resolves.toMatchObject({ sub: 'u1' })
    },
  )

  it('takes WebCrypto on Workers, where there is no node:crypto', async () => {
    useNativeCrypto(null)
    expect(verifier()).toBe(webVerifier)
    useNativeCrypto(undefined)
    expect(verifier()).toBe(nativeVerifier(nativeCrypto() as NativeCrypto))
  })
})

describe('the session id hash', () => {
  it('is the same with node:crypto and with WebCrypto', async () => {
    const [byWeb, byNode] = [randomBytes(32), randomBytes(32)].map((b) => b.toString('base64url'))
    useNativeCrypto(null)
    expect(await hashSessionId(byWeb as string)).toBe(
      createHash('sha256')
        .update(byWeb as string)
        .digest('base64url'),
    )
    useNativeCrypto(undefined)
    expect(await hashSessionId(byNode as string)).toBe(
      createHash('sha256')
        .update(byNode as string)
        .digest('base64url'),
    )
  })
})
