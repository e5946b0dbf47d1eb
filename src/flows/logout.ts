import { WxaAuthError, type WxaErrorCode } from '../errors'
import { recordAudit } from '../operators/audit'
import { namedSession, type Session } from '../session/session'
import type { FlowContext } from './context'

/**
 * Ends the request's session. Idempotent: a token of a session already over
 * is fine, so a client may retry a logout whose answer it lost; a replaced
 * token ends its session too (the answer is the same either way).
 */
export async function logout<User extends { id: string }>(
  flow: FlowContext<User>,
  session: Session,
  why: WxaErrorCode | null,
): Promise<void> {
  const replaced = why === 'SESSION_EXPIRED' && session.presented
  if (why === 'SESSION_EXPIRED' && !replaced) return
  if (!session.active && !replaced) throw new WxaAuthError(why ?? 'AUTH_REQUIRED')
  const { uid, id } = namedSession(session)
  const ended = await flow.config.sessions.end(uid, id, flow.now)
  session.end()
  if (ended) void recordAudit(flow, { type: 'logout', uid, actor: 'user', detail: { session: id } })
}

/** Ends every session of the request's user, in every app; returns how many. */
export async function logoutAll<User extends { id: string }>(
  flow: FlowContext<User>,
  session: Session,
): Promise<number> {
  const caller = namedSession(session)
  // Checked by the authority in the same step: a dead or replaced token ends nothing.
  const ended = await flow.config.sessions.endAll(caller.uid, flow.now, undefined, caller)
  session.end()
  void recordAudit(flow, {
    type: 'logout.all',
    uid: caller.uid,
    actor: 'user',
    detail: { session: caller.id, sessionsEnded: ended.length },
  })
  return ended.length
}
