import { WxaAuthError, type WxaErrorCode } from '../errors'
import { Session } from '../session/session'
import type { IssuedToken } from '../token/issue'
import { issueToken } from '../token/issue'
import type { Flow } from './context'

/**
 * A new token of the request's session: a new generation, the expiry slid
 * past half its lifetime. The token the last refresh replaced, presented
 * within the grace, gets the current generation back; any other replaced
 * token is reuse, and the authority ends the session.
 *
 * @param why why the request is anonymous, if it is (`TOKEN_REVOKED` for a replaced token)
 */
export async function refresh<User extends { id: string }>(
  flow: Flow<User>,
  session: Session,
  user: User | null,
  why: WxaErrorCode | null,
): Promise<IssuedToken & { user: User }> {
  const { config, hooks, now, c } = flow
  const presented = session.presented
  const replaced = why === 'TOKEN_REVOKED' && presented !== null
  if (!presented || (!session.active && !replaced)) {
    throw new WxaAuthError(why ?? 'AUTH_REQUIRED')
  }
  const outcome = await config.sessions.refresh(presented, session.takeChange(), now)
  if (!outcome.ok) throw new WxaAuthError(outcome.refused)
  let owner = user
  if (!owner && presented.claims) {
    // A replaced token refreshed within the grace: its user, as a live request would have it.
    c.set('session', new Session(presented, outcome.record))
    owner = await hooks.claimsToUser(presented.claims, c)
  }
  if (!owner) throw new WxaAuthError('SESSION_EXPIRED')
  return {
    ...(await issueToken(
      config,
      await hooks.userToClaims(owner),
      presented.sid,
      outcome.record,
      now,
    )),
    user: owner,
  }
}
