import type { WxaConfig } from '../config'
import type { SessionRecord } from '../session/record'
import { RESERVED_CLAIMS, signToken } from './jwt'
import { importKeyRing } from './keys'
import { mintRefreshToken } from './refresh'

/** What a login or a refresh answers about the tokens. */
export interface IssuedToken {
  /** The access token: send it as `Authorization: JWT <token>`. */
  token: string
  tokenType: 'JWT'
  /** When the access token expires, ISO 8601. */
  expiresAt: string
  /** Seconds from now: a client keeps its own deadline without comparing clocks with ours. */
  expiresIn: number
  /** The opaque refresh token: sent only to `POST /auth/refresh`, in the body. */
  refreshToken: string
  /** When the session (and so the refresh token) expires, ISO 8601, unless refreshed. */
  refreshExpiresAt: string
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString()

/**
 * Signs the access token of a session's current generation: `sub` (the user
 * id), `sid` (secret), `gen`, `iat` = the generation's start (the login or
 * the refresh), `exp` = `ACCESS_TOKEN_TTL` later but never past the session,
 * and the claims `userToClaims` gave at login. The same generation signs to
 * the same token: a replayed refresh answers what the rotation answered.
 * Along with it, the refresh token of that generation (`nonce`).
 */
export async function issueToken(
  { secrets, issuer, audience, accessTtl }: WxaConfig,
  sid: string,
  record: SessionRecord,
  nonce: string,
  now: number,
): Promise<IssuedToken> {
  const ring = await importKeyRing(secrets)
  const exp = Math.min(record.refreshedAt + accessTtl, record.expiresAt)
  const token = await signToken(
    ring,
    { ...record.claims, sub: record.uid, sid, gen: record.gen, exp },
    { issuer, audience, now: record.refreshedAt },
  )
  return {
    token,
    tokenType: 'JWT',
    expiresAt: iso(exp),
    expiresIn: Math.max(0, exp - now),
    refreshToken: await mintRefreshToken(ring, { uid: record.uid, sid, gen: record.gen, nonce }),
    refreshExpiresAt: iso(record.expiresAt),
  }
}

/** The hook's claims a session keeps for its tokens: reserved ones dropped, none: undefined. */
export function ownClaims(claims: Record<string, unknown>): Record<string, unknown> | undefined {
  const own = { ...claims }
  for (const name of RESERVED_CLAIMS) delete own[name]
  return Object.keys(own).length ? own : undefined
}
