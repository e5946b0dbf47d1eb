import { namedSession, type Session } from '../session/session'
import type { FlowContext } from './context'
import { devicesOf } from './devices'
import { profileView } from './profile'

const MAX_AUDIT_PAGES = 100 // of 100 records: the most one export reads of the audit log

/**
 * The user's own copy of what wxa-auth keeps of them (PIPL art. 45): their
 * identities (never a session_key), devices, profile, the request's session
 * data, any ban, and their audit records, oldest first.
 */
export async function exportAccount<User extends { id: string }>(
  flow: FlowContext<User>,
  session: Session,
  origin: string,
) {
  const { config, now } = flow
  const { uid, id } = namedSession(session)
  const [found, devices, profile, ban] = await Promise.all([
    config.directory?.get(uid) ?? null,
    devicesOf(flow, uid, id),
    config.sessions.profile(uid, now),
    config.sessions.banned(uid, now),
  ])
  const identities = found?.identities.length
    ? found.identities.map(({ platform, appId, openid, unionid }) => ({
        platform,
        appId,
        openid,
        ...(unionid ? { unionid } : {}),
      }))
    : [
        {
          platform: session.platform ?? 'wechat',
          appId: session.appId ?? '',
          openid: session.openid ?? '',
          ...(session.unionid ? { unionid: session.unionid } : {}),
        },
      ]
  const audit = []
  let cursor: string | undefined
  for (let i = 0; config.audit && i < MAX_AUDIT_PAGES; i++) {
    const page = await config.audit.query({ uid }, { cursor, limit: 100 })
    for (const { id: _, uid: __, ...record } of page.records) audit.push(record)
    cursor = page.cursor
    if (!cursor) break
  }
  return {
    uid,
    identities,
    devices,
    profile: profileView(profile, config.publicUrl ?? origin),
    session: session.all(),
    ban,
    audit,
    exportedAt: new Date(now * 1000).toISOString(),
  }
}
