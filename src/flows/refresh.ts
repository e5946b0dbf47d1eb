import { WxaAuthError } from '../errors'
import { recordAudit } from '../operators/audit'
import { hashSessionId } from '../session/ids'
import { Session } from '../session/session'
import { refusalError } from '../session/sessions'
import type { IssuedToken } from '../token/issue'
import { issueToken } from '../token/issue'
import type { TokenClaims } from '../token/jwt'
import { importKeyRing } from '../token/keys'
import { hashNonce, nextNonce, readRefreshToken } from '../token/refresh'
import type { FlowContext } from './context'

/**
 * A refresh by refresh token (the body of `POST /auth/refresh`, nothing
 * else): the token rotates and both tokens come anew. The token the last
 * rotation replaced, presented again within the grace while its successor
 * is unused, gets the very answer that rotation made (the same access token
 * and the same successor: both are derived, not stored); any other replaced
 * refresh token is reuse, and the authority ends the session. An access
 * token never refreshes.
 *
 * @param presented the body's `refreshToken`, unchecked
 */
export async function refresh<User extends { id: string }>(
  flow: FlowContext<User>,
  presented: unknown,
): Promise<IssuedToken & { user: User }> {
  const { config, hooks, now, c } = flow
  if (presented === undefined) throw new WxaAuthError('AUTH_REQUIRED')
  const ring = await importKeyRing(config.secrets)
  const token = await readRefreshToken(ring, presented)
  if (!token) throw new WxaAuthError('TOKEN_INVALID')
  const { uid, sid, gen, nonce } = token
  const id = await hashSessionId(sid)
  const successor = await nextNonce(ring, nonce)
  const [hash, next] = await Promise.all([hashNonce(nonce), hashNonce(successor)])
  const outcome = await config.sessions.refresh(uid, id, { gen, hash, next }, now)
  if (!outcome.ok) {
    // A replaced refresh token used again: the authority ended the session.
    if (outcome.refused === 'TOKEN_REVOKED') {
      void recordAudit(flow, {
        type: 'refresh.reuse',
        uid,
        actor: 'system',
        detail: { session: id, generation: gen, ended: outcome.over },
      })
    }
    throw refusalError(outcome)
  }
  if (!outcome.replayed) {
    void recordAudit(flow, {
      type: 'refresh',
      uid,
      actor: 'user',
      detail: { session: id, generation: outcome.record.gen },
    })
  }
  const { record } = outcome
  // The user as a request with the new access token would have it.
  const claims = {
    ...record.claims,
    sub: uid,
    sid,
    gen: record.gen,
    iat: record.refreshedAt,
    exp: record.expiresAt,
  } as TokenClaims
  c.set('session', new Session({ sid, id, uid, gen: record.gen, claims }, record))
  const user = await hooks.claimsToUser(claims, c)
  if (!user) throw new WxaAuthError('SESSION_EXPIRED')
  return { ...(await issueToken(config, sid, record, successor, now)), user }
}
