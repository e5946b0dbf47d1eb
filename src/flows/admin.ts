import { WxaAuthError } from '../errors'
import { recordAudit } from '../operators/audit'
import { decodeCursor, encodeCursor } from '../operators/cursor'
import type {
  AuditFilter,
  DirectoryEntry,
  DirectoryQuery,
  DirectoryUser,
  StoredAuditRecord,
} from '../operators/ports'
import type { Ban } from '../session/record'
import type { FlowContext } from './context'
import { type Device, devicesOf } from './devices'
import { deleteAccountByOperator } from './forget'
import { type Profile, profileView } from './profile'

// What an operator does to a user (the admin API): each is one flow, and
// each writes an audit record naming the operator's key id, never the key.

export const MAX_PAGE = 100 // records or users per page
export const DEFAULT_PAGE = 50
export const LATEST_AUDIT = 20 // records shown with a user
const LATEST_AUDIT_DAYS = 30 // how far back a user's view looks for them
const LATEST_AUDIT_PAGES = 10 // pages of MAX_PAGE read for them, at most
const SESSION_ID = /^[\w-]{43}$/
const USER_ID = /^[\w.@-]{1,128}$/ // as a login takes them

/** Who acts: the key id of the operator's key. */
export const operatorActor = (kid: string) => `operator:${kid}`

/** A user as an operator sees them. */
export interface UserView {
  uid: string
  identities: Pick<DirectoryEntry, 'platform' | 'appId' | 'openid' | 'unionid'>[]
  devices: Device[]
  profile: Profile
  ban: Ban | null
  audit: StoredAuditRecord[]
}

const identitiesOf = (found: DirectoryUser | null) =>
  (found?.identities ?? []).map(({ platform, appId, openid, unionid }) => ({
    platform,
    appId,
    openid,
    ...(unionid ? { unionid } : {}),
  }))

/** `uid` when it can be a user's id (as a login takes them), else `USER_NOT_FOUND`. */
function userId(uid: string): string {
  if (!USER_ID.test(uid)) throw new WxaAuthError('USER_NOT_FOUND')
  return uid
}

/** The user as the directory and the session authority know them, or `USER_NOT_FOUND`. */
async function known<User extends { id: string }>(flow: FlowContext<User>, uid: string) {
  const { config, now } = flow
  userId(uid)
  const [found, devices, profile, ban] = await Promise.all([
    config.directory?.get(uid) ?? null,
    devicesOf(flow, uid),
    config.sessions.profile(uid, now),
    config.sessions.banned(uid, now),
  ])
  if (!found && !devices.length && !profile && !ban) throw new WxaAuthError('USER_NOT_FOUND')
  return { found, devices, profile, ban }
}

/** The latest audit records of `uid` (of the last 30 days), newest last. */
async function latestAudit<User extends { id: string }>(flow: FlowContext<User>, uid: string) {
  const { audit } = flow.config
  if (!audit) return []
  const since = (flow.now - LATEST_AUDIT_DAYS * 24 * 60 * 60) * 1000
  let latest: StoredAuditRecord[] = []
  let cursor: string | undefined
  for (let i = 0; i < LATEST_AUDIT_PAGES; i++) {
    const page = await audit.query({ uid, since }, { cursor, limit: MAX_PAGE })
    latest = [...latest, ...page.records].slice(-LATEST_AUDIT)
    cursor = page.cursor
    if (!cursor) break
  }
  return latest
}

/** `GET /admin/api/users/:id`. */
export async function viewUser<User extends { id: string }>(
  flow: FlowContext<User>,
  uid: string,
  kid: string,
  origin: string,
): Promise<UserView> {
  const { found, devices, profile, ban } = await known(flow, uid)
  const audit = await latestAudit(flow, uid)
  void recordAudit(flow, admin(kid, uid, 'user.view'))
  return {
    uid,
    identities: identitiesOf(found),
    devices,
    profile: profileView(profile, flow.config.publicUrl ?? origin),
    ban,
    audit,
  }
}

const admin = (kid: string, uid: string | undefined, action: string, detail = {}) => ({
  type: 'admin' as const,
  ...(uid ? { uid } : {}),
  actor: operatorActor(kid),
  detail: { action, ...detail },
})

/** A page of search results; `cursor` (the last uid, opaque) while there are more. */
export interface UsersPage {
  users: { uid: string; identities: UserView['identities']; phone: boolean }[]
  cursor?: string
}

/**
 * `GET /admin/api/users?q=`: a phone number (normalized and hashed: the
 * directory holds no numbers) is searched as one; anything else is searched
 * as a user id, an openid and a unionid at once. Ordered by uid.
 */
export async function findUsers<User extends { id: string }>(
  flow: FlowContext<User>,
  q: string,
  page: { cursor?: string | undefined; limit: number },
  kid: string,
): Promise<UsersPage> {
  const { config } = flow
  const [after] = decodeCursor(page.cursor, ['string'] as const) ?? ['']
  const hash = await config.phoneHash(q)
  // A number is searched as an id too: some platforms' ids are all digits.
  const queries: DirectoryQuery[] = [
    ...(hash ? [{ phoneHash: hash }] : []),
    { uid: q },
    { openid: q },
    { unionid: q },
  ]
  const byUid = new Map<string, DirectoryUser>()
  for (const query of queries) {
    let cursor: string | undefined
    do {
      const found: { users: DirectoryUser[]; cursor?: string } = (await config.directory?.find(
        query,
        { cursor, limit: MAX_PAGE },
      )) ?? { users: [] }
      for (const user of found.users) if (user.uid > after) byUid.set(user.uid, user)
      cursor = found.cursor
    } while (cursor && byUid.size <= page.limit)
  }
  const users = [...byUid.values()].sort((a, b) => (a.uid < b.uid ? -1 : 1))
  const shown = users.slice(0, page.limit)
  // Never the query: it may be a phone number.
  void recordAudit(flow, admin(kid, undefined, 'users.search', { kind: hash ? 'phone' : 'id' }))
  const last = shown.at(-1)
  return {
    users: shown.map((user) => ({
      uid: user.uid,
      identities: identitiesOf(user),
      phone: user.phone,
    })),
    ...(users.length > page.limit && last ? { cursor: encodeCursor([last.uid]) } : {}),
  }
}

/** `POST /admin/api/users/:id/ban`: every session ends at once; logins refused until `until`. */
export async function banUser<User extends { id: string }>(
  flow: FlowContext<User>,
  uid: string,
  input: { reason: string; until?: number | undefined },
  kid: string,
): Promise<Ban> {
  const { now } = flow
  if (input.until !== undefined && input.until <= now) {
    throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: body.until must be in the future.')
  }
  await known(flow, uid)
  const ban: Ban = {
    reason: input.reason,
    ...(input.until !== undefined ? { until: input.until } : {}),
    at: now,
    by: operatorActor(kid),
  }
  const ended = await flow.config.sessions.ban(uid, ban, now)
  void recordAudit(flow, {
    type: 'ban',
    uid,
    actor: ban.by,
    detail: {
      reason: ban.reason,
      ...(ban.until !== undefined ? { until: ban.until } : {}),
      sessionsEnded: ended.length,
    },
  })
  return ban
}

/** `DELETE /admin/api/users/:id/ban`; whether a ban held. */
export async function unbanUser<User extends { id: string }>(
  flow: FlowContext<User>,
  uid: string,
  kid: string,
): Promise<boolean> {
  const lifted = await flow.config.sessions.unban(userId(uid), flow.now)
  void recordAudit(flow, { type: 'unban', uid, actor: operatorActor(kid), detail: { lifted } })
  return lifted
}

/** `POST /admin/api/users/:id/logout`: every session of the user ends; how many. */
export async function logoutUser<User extends { id: string }>(
  flow: FlowContext<User>,
  uid: string,
  kid: string,
): Promise<number> {
  const ended = await flow.config.sessions.endAll(userId(uid), flow.now)
  void recordAudit(flow, admin(kid, uid, 'logout.all', { sessionsEnded: ended.length }))
  return ended.length
}

/** `DELETE /admin/api/users/:id/sessions/:sessionId`: one session ends, or `SESSION_NOT_FOUND`. */
export async function endUserSession<User extends { id: string }>(
  flow: FlowContext<User>,
  uid: string,
  id: string,
  kid: string,
): Promise<void> {
  if (!SESSION_ID.test(id) || !(await flow.config.sessions.end(userId(uid), id, flow.now))) {
    throw new WxaAuthError('SESSION_NOT_FOUND')
  }
  void recordAudit(flow, admin(kid, uid, 'session.end', { session: id }))
}

/** `DELETE /admin/api/users/:id`: the account goes, as the user's own deletion does it. */
export async function deleteUser<User extends { id: string }>(
  flow: FlowContext<User>,
  uid: string,
  kid: string,
): Promise<void> {
  const { found } = await known(flow, uid)
  await deleteAccountByOperator(flow, uid, identitiesOf(found), operatorActor(kid))
}

/** `GET /admin/api/audit`: one page, oldest first. */
export async function readAudit<User extends { id: string }>(
  flow: FlowContext<User>,
  filter: AuditFilter,
  page: { cursor?: string | undefined; limit: number },
  kid: string,
): Promise<{ records: StoredAuditRecord[]; cursor?: string }> {
  const found = (await flow.config.audit?.query(filter, page)) ?? { records: [] }
  void recordAudit(flow, admin(kid, undefined, 'audit.read'))
  return found
}

/**
 * `GET /admin/api/audit` as NDJSON: every page, one record a line, read as
 * the answer is streamed.
 */
export function exportAudit<User extends { id: string }>(
  flow: FlowContext<User>,
  filter: AuditFilter,
  kid: string,
): ReadableStream<Uint8Array> {
  const { audit } = flow.config
  let cursor: string | undefined
  let done = !audit
  void recordAudit(flow, admin(kid, undefined, 'audit.export'))
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (done || !audit) {
        controller.close()
        return
      }
      const page = await audit.query(filter, { cursor, limit: MAX_PAGE })
      cursor = page.cursor
      done = !cursor
      const lines = page.records.map((record) => `${JSON.stringify(record)}\n`).join('')
      if (lines) controller.enqueue(new TextEncoder().encode(lines))
      if (done) controller.close()
    },
  })
}
