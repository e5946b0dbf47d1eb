import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose'
import { WxaAuthError } from '../errors'
import { BoundedMap } from '../util/bounded-map'
import type { KeyRing } from './keys'

/** Claims wxa-auth sets itself; hook claims cannot override them. */
export const RESERVED_CLAIMS = [
  'sub',
  'sid',
  'gen',
  'iat',
  'exp',
  'nbf',
  'iss',
  'aud',
  'jti',
] as const

const ALGORITHM = 'HS256'
const VERIFIED_CACHE_SIZE = 10_000 // tokens per key ring and isolate
const VERIFIED_CACHE_BYTES = 4 * 1024 * 1024 // UTF-16 code units per key ring and isolate
const CLOCK_TOLERANCE = 5 // seconds
const CANONICAL_SIGNATURE = /\.[\w-]{42}[AEIMQUYcgkosw048]$/

/** The claims of a verified wxa-auth token. */
export interface TokenClaims extends JWTPayload {
  sub: string
  sid: string
  iat: number
  exp: number
}

export interface TokenOptions {
  issuer: string
  audience: string
  /** Current time, unix seconds. */
  now: number
}

/** Signs a token with the newest key of the ring, naming it in `kid`. */
export async function signToken(
  ring: KeyRing,
  claims: Record<string, unknown> & { sub: string; sid: string; exp: number },
  { issuer, audience, now }: TokenOptions,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT', kid: ring.current.kid })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(now)
    .sign(ring.current.key)
}

/**
 * Verifies `token`: HS256 only, a `kid` from the ring, `iss`, `aud`, `exp`,
 * `nbf`, an `iat` not in the future, and the `sub` and `sid` claims present.
 *
 * @throws WxaAuthError `TOKEN_EXPIRED` or `TOKEN_INVALID`
 */
export async function verifyToken(
  ring: KeyRing,
  token: string,
  options: TokenOptions,
): Promise<TokenClaims> {
  // The same bytes under the same key ring verify the same way until `exp`:
  // a token seen before costs a map lookup, not a WebCrypto call.
  const verified =
    verifiedTokens.get(ring) ??
    new BoundedMap<string, TokenClaims>(VERIFIED_CACHE_SIZE, {
      maxBytes: VERIFIED_CACHE_BYTES,
      // The claims are the token's payload: about as long as the token again.
      sizeOf: (_claims, key) => 2 * key.length,
    })
  verifiedTokens.set(ring, verified)
  const key = `${options.issuer}\n${options.audience}\n${token}`
  const hit = verified.get(key)
  if (hit && hit.exp > options.now - CLOCK_TOLERANCE) return hit
  // Frozen: hooks see the same object on every request with this token.
  const claims = Object.freeze(await verifyUncached(ring, token, options))
  verified.set(key, claims)
  return claims
}

const verifiedTokens = new WeakMap<KeyRing, BoundedMap<string, TokenClaims>>()

async function verifyUncached(
  ring: KeyRing,
  token: string,
  { issuer, audience, now }: TokenOptions,
): Promise<TokenClaims> {
  // An HS256 signature is 32 bytes: 43 base64url characters whose last one
  // carries 4 unused bits. Base64 decoders ignore those bits, so without this
  // check 3 other spellings of every token would verify too.
  if (!CANONICAL_SIGNATURE.test(token)) {
    throw new WxaAuthError('TOKEN_INVALID', undefined, {
      cause: new Error('non-canonical signature'),
    })
  }
  let payload: JWTPayload
  try {
    ;({ payload } = await jwtVerify(
      token,
      (header) => {
        const key = typeof header.kid === 'string' ? ring.byKid.get(header.kid) : undefined
        if (!key) throw new errors.JWKSNoMatchingKey()
        return key
      },
      {
        algorithms: [ALGORITHM],
        issuer,
        audience,
        currentDate: new Date(now * 1000),
        clockTolerance: CLOCK_TOLERANCE,
        requiredClaims: ['sub', 'sid', 'iat', 'exp'],
      },
    ))
  } catch (cause) {
    const code = cause instanceof errors.JWTExpired ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID'
    throw new WxaAuthError(code, undefined, { cause })
  }
  const { sub, sid, iat } = payload
  if (
    typeof sub !== 'string' ||
    typeof sid !== 'string' ||
    (iat as number) > now + CLOCK_TOLERANCE
  ) {
    throw new WxaAuthError('TOKEN_INVALID', undefined, { cause: new Error('bad sub, sid or iat') })
  }
  return payload as TokenClaims
}
