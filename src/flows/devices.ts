import { WxaAuthError } from '../errors'
import { recordAudit } from '../operators/audit'
import type { SessionSummary } from '../session/record'
import { namedSession, type Session } from '../session/session'
import type { FlowContext } from './context'

// The user's devices: the list of their live sessions, and ending one of them.

const SESSION_ID = /^[\w-]{43}$/

/** Ends one of the user's sessions (a device), by its public id. */
export async function revokeDevice<User extends { id: string }>(
  flow: FlowContext<User>,
  session: Session,
  target: string,
): Promise<void> {
  const caller = namedSession(session)
  const { uid, id } = caller
  if (!SESSION_ID.test(target)) throw new WxaAuthError('SESSION_NOT_FOUND')
  if (
    !(await flow.config.sessions.end(uid, target, flow.now, target === id ? undefined : caller))
  ) {
    throw new WxaAuthError('SESSION_NOT_FOUND')
  }
  if (target === id) session.end()
  void recordAudit(flow, {
    type: 'device.revoked',
    uid,
    actor: 'user',
    detail: { session: target, by: id },
  })
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
  flow: FlowContext<User>,
  session: Session,
): Promise<Device[]> {
  const { uid, id } = namedSession(session)
  return devicesOf(flow, uid, id)
}

/** The live sessions of user `uid` as the user sees them, newest first; `current` marks one. */
export async function devicesOf<User extends { id: string }>(
  flow: FlowContext<User>,
  uid: string,
  current?: string,
): Promise<Device[]> {
  const id = current
  return (await flow.config.sessions.list(uid, flow.now)).map((s) => ({
    id: s.id,
    current: s.id === id,
    createdAt: iso(s.createdAt),
    refreshedAt: iso(s.refreshedAt),
    expiresAt: iso(s.expiresAt),
    device: s.device ?? {},
  }))
}
