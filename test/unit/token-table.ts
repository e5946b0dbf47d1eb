// Forged and odd tokens, and how jose's jwtVerify ends with each: the table
// the verify fast path (src/token/jwt.ts verifyFast) must match row for row,
// in Node with node:crypto and WebCrypto (test/unit/token-native.test.ts) and
// on workerd (test/token-fast-path.test.ts).
import { Buffer } from 'node:buffer'
import { createHmac, randomBytes } from 'node:crypto'
import { isWxaAuthError } from '../../src/errors'
import { verifyToken } from '../../src/token/jwt'
import { importKeyRing, type SigningSecret } from '../../src/token/keys'
import { useVerifier, type Verifier } from '../../src/token/verifiers'

export const SECRET = randomBytes(32).toString('base64url')
export const OTHER = randomBytes(32).toString('base64url')
export const ISSUER = 'wxa-auth'
export const AUDIENCE = 'wx0000000000test1'
export const NOW = 1_800_000_000

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const hmac = (alg: string, secret: string, input: string) =>
  createHmac(alg, secret).update(input).digest('base64url')

/** A token of any header and payload, signed with `secret` (HMAC with `alg`'s hash). */
export function forge(
  header: Record<string, unknown>,
  payload: unknown,
  { secret = SECRET, hash = 'sha256' } = {},
) {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${hmac(hash, secret, input)}`
}

export const HEADER = { alg: 'HS256', typ: 'JWT', kid: 'main' }
export const CLAIMS = {
  sub: 'u1',
  sid: 's1',
  gen: 0,
  iat: NOW - 60,
  exp: NOW + 600,
  iss: ISSUER,
  aud: AUDIENCE,
}
const claims = (change: Record<string, unknown>) => {
  const all: Record<string, unknown> = { ...CLAIMS, ...change }
  for (const [name, value] of Object.entries(all)) if (value === undefined) delete all[name]
  return all
}
export const valid = forge(HEADER, CLAIMS)
const [validHead, validBody] = valid.split('.') as [string, string]
/** A token of two base64url segments, signed. */
const signed = (head: string, body: string) =>
  `${head}.${body}.${hmac('sha256', SECRET, `${head}.${body}`)}`

export type Outcome = 'ok' | 'TOKEN_INVALID' | 'TOKEN_EXPIRED'
/** Each token and how jose, and so every path, must end with it. */
export const TABLE: [string, string, Outcome][] = [
  ['a token as wxa-auth signs it', valid, 'ok'],
  ['without typ', forge({ alg: 'HS256', kid: 'main' }, CLAIMS), 'ok'],
  ['another typ (jose does not check it)', forge({ ...HEADER, typ: 'at+jwt' }, CLAIMS), 'ok'],
  ['an extra header parameter', forge({ ...HEADER, jku: 'https://x.example' }, CLAIMS), 'ok'],
  ['aud as an array holding ours', forge(HEADER, claims({ aud: ['x', AUDIENCE] })), 'ok'],
  ['exp just past, within the tolerance', forge(HEADER, claims({ exp: NOW - 4 })), 'ok'],
  ['nbf just ahead, within the tolerance', forge(HEADER, claims({ nbf: NOW + 5 })), 'ok'],
  ['iat just ahead, within the tolerance', forge(HEADER, claims({ iat: NOW + 5 })), 'ok'],
  ['crit b64 with b64 true', forge({ ...HEADER, crit: ['b64'], b64: true }, CLAIMS), 'ok'],
  [
    'alg none, no signature',
    `${b64({ alg: 'none', kid: 'main' })}.${b64(CLAIMS)}.`,
    'TOKEN_INVALID',
  ],
  [
    'alg none with an HS256 signature',
    forge({ alg: 'none', typ: 'JWT', kid: 'main' }, CLAIMS),
    'TOKEN_INVALID',
  ],
  ['alg HS384', forge({ ...HEADER, alg: 'HS384' }, CLAIMS, { hash: 'sha384' }), 'TOKEN_INVALID'],
  ['alg HS512', forge({ ...HEADER, alg: 'HS512' }, CLAIMS, { hash: 'sha512' }), 'TOKEN_INVALID'],
  ['alg RS256 over an HMAC', forge({ ...HEADER, alg: 'RS256' }, CLAIMS), 'TOKEN_INVALID'],
  ['alg hs256 (case)', forge({ ...HEADER, alg: 'hs256' }, CLAIMS), 'TOKEN_INVALID'],
  ['no alg', forge({ typ: 'JWT', kid: 'main' }, CLAIMS), 'TOKEN_INVALID'],
  ['signed with another secret', forge(HEADER, CLAIMS, { secret: OTHER }), 'TOKEN_INVALID'],
  [
    'a signature of other claims',
    `${validHead}.${b64(claims({ sub: 'u2' }))}.${valid.split('.')[2]}`,
    'TOKEN_INVALID',
  ],
  [
    'a flipped signature character',
    `${valid.slice(0, -2)}${valid.at(-2) === 'A' ? 'B' : 'A'}${valid.at(-1)}`,
    'TOKEN_INVALID',
  ],
  [
    'a non-canonical last character',
    `${valid.slice(0, -1)}${String.fromCharCode(valid.charCodeAt(valid.length - 1) + 1)}`,
    'TOKEN_INVALID',
  ],
  ['a kid not in the ring', forge({ ...HEADER, kid: 'other' }, CLAIMS), 'TOKEN_INVALID'],
  ['no kid', forge({ alg: 'HS256', typ: 'JWT' }, CLAIMS), 'TOKEN_INVALID'],
  ['a numeric kid', forge({ ...HEADER, kid: 1 }, CLAIMS), 'TOKEN_INVALID'],
  ['crit naming exp', forge({ ...HEADER, crit: ['exp'] }, CLAIMS), 'TOKEN_INVALID'],
  ['crit empty', forge({ ...HEADER, crit: [] }, CLAIMS), 'TOKEN_INVALID'],
  ['b64 false', forge({ ...HEADER, crit: ['b64'], b64: false }, CLAIMS), 'TOKEN_INVALID'],
  ['a header that is an array', forge([HEADER] as never, CLAIMS), 'TOKEN_INVALID'],
  [
    'a header that is not JSON',
    `${b64('{alg')}.${validBody}.${hmac('sha256', SECRET, `${b64('{alg')}.${validBody}`)}`,
    'TOKEN_INVALID',
  ],
  ['expired', forge(HEADER, claims({ exp: NOW - 5 })), 'TOKEN_EXPIRED'],
  ['expired long ago', forge(HEADER, claims({ exp: NOW - 86_400 })), 'TOKEN_EXPIRED'],
  [
    'expired and of another issuer',
    forge(HEADER, claims({ exp: NOW - 60, iss: 'x' })),
    'TOKEN_INVALID',
  ],
  ['nbf ahead', forge(HEADER, claims({ nbf: NOW + 6 })), 'TOKEN_INVALID'],
  ['nbf not a number', forge(HEADER, claims({ nbf: String(NOW) })), 'TOKEN_INVALID'],
  ['iat ahead', forge(HEADER, claims({ iat: NOW + 6 })), 'TOKEN_INVALID'],
  ['iat not a number', forge(HEADER, claims({ iat: String(NOW) })), 'TOKEN_INVALID'],
  ['exp not a number', forge(HEADER, claims({ exp: String(NOW + 600) })), 'TOKEN_INVALID'],
  ['another issuer', forge(HEADER, claims({ iss: 'other' })), 'TOKEN_INVALID'],
  ['no issuer', forge(HEADER, claims({ iss: undefined })), 'TOKEN_INVALID'],
  ['an issuer array', forge(HEADER, claims({ iss: [ISSUER] })), 'TOKEN_INVALID'],
  ['another audience', forge(HEADER, claims({ aud: 'wx-other' })), 'TOKEN_INVALID'],
  ['an audience array without ours', forge(HEADER, claims({ aud: ['x'] })), 'TOKEN_INVALID'],
  ['no audience', forge(HEADER, claims({ aud: undefined })), 'TOKEN_INVALID'],
  ['no sub', forge(HEADER, claims({ sub: undefined })), 'TOKEN_INVALID'],
  ['a numeric sub', forge(HEADER, claims({ sub: 7 })), 'TOKEN_INVALID'],
  ['no sid', forge(HEADER, claims({ sid: undefined })), 'TOKEN_INVALID'],
  ['no iat', forge(HEADER, claims({ iat: undefined })), 'TOKEN_INVALID'],
  ['no exp', forge(HEADER, claims({ exp: undefined })), 'TOKEN_INVALID'],
  ['claims that are an array', forge(HEADER, [CLAIMS]), 'TOKEN_INVALID'],
  ['claims that are a string', forge(HEADER, 'claims'), 'TOKEN_INVALID'],
  [
    'claims that are not UTF-8',
    (() => {
      const input = `${b64(HEADER)}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}`
      return `${input}.${hmac('sha256', SECRET, input)}`
    })(),
    'TOKEN_INVALID',
  ],
  [
    'a sub that is not UTF-8',
    signed(
      validHead,
      Buffer.concat([
        Buffer.from('{"sub":"u'),
        Buffer.from([0xff]),
        Buffer.from(`",${JSON.stringify(claims({ sub: undefined })).slice(1)}`),
      ]).toString('base64url'),
    ),
    'TOKEN_INVALID',
  ],
  ['a sub holding U+FFFD', signed(validHead, b64(claims({ sub: 'u\uFFFD1' }))), 'ok'],
  ['claims behind a UTF-8 BOM', signed(validHead, b64(`\uFEFF${JSON.stringify(CLAIMS)}`)), 'ok'],
  ['a header behind a UTF-8 BOM', signed(b64(`\uFEFF${JSON.stringify(HEADER)}`), validBody), 'ok'],
  ['four segments', `${valid}.${valid.split('.')[2]}`, 'TOKEN_INVALID'],
]

/**
 * One verification with `verifier` (null: jose alone; undefined: the
 * runtime's), on a ring of its own (verified tokens are cached per ring).
 */
export async function outcome(token: string, verifier: Verifier | null | undefined) {
  useVerifier(verifier)
  const ring = await importKeyRing([{ kid: 'main', secret: SECRET }] as SigningSecret[])
  try {
    const verified = await verifyToken(ring, token, {
      issuer: ISSUER,
      audience: AUDIENCE,
      now: NOW,
    })
    return { outcome: 'ok' as Outcome, claims: { ...verified } }
  } catch (err) {
    if (!isWxaAuthError(err, 'TOKEN_INVALID', 'TOKEN_EXPIRED')) throw err
    return { outcome: err.code as Outcome }
  }
}
