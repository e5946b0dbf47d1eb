import type { WxaConfig } from '../config'
import type { SessionRecord } from '../session/record'
import { RESERVED_CLAIMS, signToken } from './jwt'
import { importKeyRing } from './keys'

/** What a login or a refresh answers about the token. */
export interface IssuedToken {
  token: string
  tokenType: 'JWT'
  /** ISO 8601. */
  expiresAt: string
  /** Seconds from now: a client keeps its own deadline without comparing clocks with ours. */
  expiresIn: number
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString()

/**
 * Signs the token of a session: `sub` (the user id), `sid` (secret),
 * `gen`, `exp` = the session's expiry, and the hook's claims (reserved ones
 * dropped).
 */
export async function issueToken(
  { secrets, issuer, audience }: WxaConfig,
  claims: Record<string, unknown>,
  sid: string,
  record: SessionRecord,
  now: number,
): Promise<IssuedToken> {
  const own = { ...claims }
  for (const name of RESERVED_CLAIMS) delete own[name]
  const token = await signToken(
    await importKeyRing(secrets),
    { ...own, sub: record.uid, sid, gen: record.gen, exp: record.expiresAt },
    { issuer, audience, now },
  )
  return {
    token,
    tokenType: 'JWT',
    expiresAt: iso(record.expiresAt),
    expiresIn: record.expiresAt - now,
  }
}
