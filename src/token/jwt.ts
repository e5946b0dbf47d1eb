import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose'
import { WxaAuthError } from '../errors'
import { BoundedMap } from '../util/bounded-map'
import type { KeyRing } from './keys'
import { type Verifier, verifier } from './verifiers'

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
// Verified tokens are kept by the memory they take, not by their number: an
// app with many tokens alive at once keeps as many as fit. A token of ~300
// characters counts 800 bytes with its claims: ~10,000 tokens in a Worker's
// isolate (8 MiB of its 128 MB), ~80,000 in a Node process (64 MiB).
const ON_WORKERS =
  (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ===
  'Cloudflare-Workers'
const VERIFIED_CACHE_BYTES = (ON_WORKERS ? 8 : 64) * 1024 * 1024 // per key ring, scope and isolate
const ENTRY_BYTES = 200 // a map entry and the claims object, beyond the strings
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
  // The same bytes under the same key ring, issuer and audience verify the
  // same way until `exp`: a token seen before costs a map lookup, not a verify.
  let scopes = verifiedTokens.get(ring)
  if (!scopes) {
    scopes = new Map()
    verifiedTokens.set(ring, scopes)
  }
  const scope = `${options.issuer}\n${options.audience}`
  let verified = scopes.get(scope)
  if (!verified) {
    verified = new BoundedMap<string, TokenClaims>(Infinity, {
      maxBytes: VERIFIED_CACHE_BYTES,
      sizeOf: (_claims, token) => ENTRY_BYTES + 2 * token.length,
    })
    scopes.set(scope, verified)
  }
  const hit = verified.get(token)
  if (hit && hit.exp > options.now - CLOCK_TOLERANCE) return hit
  // Frozen: hooks see the same object on every request with this token.
  const claims = Object.freeze(await verifyUncached(ring, token, options))
  verified.set(token, claims)
  return claims
}

/** Per key ring, per issuer and audience (a few: they come from the configuration). */
const verifiedTokens = new WeakMap<KeyRing, Map<string, BoundedMap<string, TokenClaims>>>()

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
  const runtime = verifier()
  const fast = runtime && (await verifyFast(runtime, ring, token, { issuer, audience, now }))
  if (fast) return fast
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

const SEGMENT = /^[\w-]+$/

/** The JSON of a base64url segment, decoded by the runtime; undefined when it is not one. */
function segmentJson(runtime: Verifier, segment: string): unknown {
  if (!SEGMENT.test(segment) || segment.length % 4 === 1) return undefined
  const text = runtime.text(segment)
  if (text === undefined) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The kid of a protected header the fast path takes, or null; by the header's base64url, per verifier. */
const HEADERS = 16 // per isolate: the headers wxa-auth signs are one per key
const headerKids = new WeakMap<Verifier, BoundedMap<string, string | null>>()

/** The kid of a header of `alg: HS256`, an optional `typ: JWT` and a `kid`, nothing else; else null. */
function headerKid(runtime: Verifier, head: string): string | null {
  let kids = headerKids.get(runtime)
  if (!kids) {
    kids = new BoundedMap(HEADERS)
    headerKids.set(runtime, kids)
  }
  let kid = kids.get(head)
  if (kid !== undefined) return kid
  const header = segmentJson(runtime, head)
  kid = null
  if (isPlainObject(header) && Object.keys(header).every((name) => HEADER_NAMES.has(name))) {
    if (
      header.alg === ALGORITHM &&
      (header.typ === undefined || header.typ === 'JWT') &&
      typeof header.kid === 'string'
    ) {
      kid = header.kid
    }
  }
  kids.set(head, kid)
  return kid
}
const HEADER_NAMES = new Set(['alg', 'typ', 'kid'])

/**
 * A token verified with the runtime's own HMAC (node:crypto's on Node,
 * WebCrypto's on Workers: src/token/verifiers.ts), for the tokens wxa-auth
 * signs: accepted only when it is one jose's `jwtVerify` accepts with the
 * options of {@link verifyUncached} (a header of `alg: HS256`, an optional
 * `typ: JWT` and a `kid` of the ring, nothing else, so no `crit` or `b64`;
 * `sub`, `sid`, `iat`, `exp`, `iss` and `aud` present and right; `exp`, `nbf`
 * and `iat` within {@link CLOCK_TOLERANCE}), refused (as jose refuses it) when
 * its signature is wrong, and undefined for anything else: then jose decides,
 * so that every refusal is jose's own, code for code.
 */
async function verifyFast(
  runtime: Verifier,
  ring: KeyRing,
  token: string,
  { issuer, audience, now }: TokenOptions,
): Promise<TokenClaims | undefined> {
  const [head, body, signature, extra] = token.split('.')
  if (extra !== undefined || head === undefined || body === undefined || !signature) return
  const kid = headerKid(runtime, head)
  const key = kid === null ? undefined : runtime.keys(ring)?.get(kid)
  if (!key) return
  // The signature first, as jose checks it before it reads the claims.
  const valid = runtime.hmac(key, token.slice(0, head.length + 1 + body.length), signature)
  if (!(typeof valid === 'boolean' ? valid : await valid)) {
    throw new WxaAuthError('TOKEN_INVALID', undefined, {
      cause: new Error('signature verification failed'),
    })
  }
  const claims = segmentJson(runtime, body)
  if (!isPlainObject(claims)) return
  const { sub, sid, iat, exp, nbf, iss, aud } = claims
  const at = Math.floor(now)
  const fits =
    typeof sub === 'string' &&
    typeof sid === 'string' &&
    typeof iat === 'number' &&
    iat <= at + CLOCK_TOLERANCE &&
    typeof exp === 'number' &&
    exp > at - CLOCK_TOLERANCE &&
    (nbf === undefined || (typeof nbf === 'number' && nbf <= at + CLOCK_TOLERANCE)) &&
    iss === issuer &&
    (aud === audience || (Array.isArray(aud) && aud.includes(audience)))
  return fits ? (claims as TokenClaims) : undefined
}
