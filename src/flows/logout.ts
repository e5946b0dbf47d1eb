import { WxaAuthError, type WxaErrorCode } from '../errors'
import type { SessionSummary } from '../session/record'
import type { Session } from '../session/session'
import type { Flow } from './context'

const SESSION_ID = /^[\w-]{43}$/

/** The user id and public id of a request's session that a token named (live, or replaced). */
function named(session: Session) {
  const { presented } = session
  if (!presented) throw new WxaAuthError('AUTH_REQUIRED')
  return presented
}

/**
 * Ends the request's session. Idempotent: a token of a session already over
 * is fine, so a client may retry a logout whose answer it lost; a replaced
 * token ends its session too (the answer is the same either way).
 */
export async function logout<User extends { id: string }>(
  flow: Flow<User>,
  session: Session,
  why: WxaErrorCode | null,
): Promise<void> {
  const replaced = why === 'SESSION_EXPIRED' && session.presented
  if (why === 'SESSION_EXPIRED' && !replaced) return
  if (!session.active && !replaced) throw new WxaAuthError(why ?? 'AUTH_REQUIRED')
  const { uid, id } = named(session)
  await flow.config.sessions.end(uid, id, flow.now)
  session.end()
}

/** Ends every session of the request's user, in every app; returns how many. */
export async function logoutAll<User extends { id: string }>(
  flow: Flow<User>,
  session: Session,
): Promise<number> {
  const caller = named(session)
  // Checked by the authority in the same step: a dead or replaced token ends nothing.
  const ended = await flow.config.sessions.endAll(caller.uid, flow.now, undefined, caller)
  session.end()
  return ended.length
}

/** Ends one of the user's sessions (a device), by its public id. */
export async function revokeDevice<User extends { id: string }>(
  flow: Flow<User>,
  session: Session,
  target: string,
): Promise<void> {
  const caller = named(session)
  const { uid, id } = caller
  if (!SESSION_ID.test(target)) throw new WxaAuthError('SESSION_NOT_FOUND')
  if (
    !(await flow.config.sessions.end(uid, target, flow.now, target === id ? undefined : caller))
  ) {
    throw new WxaAuthError('SESSION_NOT_FOUND')
  }
  if (target === id) session.end()
}

/** A device-list entry as the client sees it. */
export interface Device {
  id: string
  current: boolean
  createdAt: string
  refreshedAt: string
  expiresAt: string
  device: NonNullable<SessionSummary['device']>
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString()

/** The user's live sessions, newest first, the request's own marked. */
export async function devices<User extends { id: string }>(
  flow: Flow<User>,
  session: Session,
): Promise<Device[]> {
  const { uid, id } = named(session)
  return (await flow.config.sessions.list(uid, flow.now)).map((s) => ({
    id: s.id,
    current: s.id === id,
    createdAt: iso(s.createdAt),
    refreshedAt: iso(s.refreshedAt),
    expiresAt: iso(s.expiresAt),
    device: s.device ?? {},
  }))
}
