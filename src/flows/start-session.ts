import { WxaAuthError } from '../errors'
import type { PlatformName } from '../platforms/index'
import { hashSessionId, newSessionId } from '../session/ids'
import type { DeviceInfo, SessionRecord } from '../session/record'
import { type IssuedToken, issueToken } from '../token/issue'
import { hashNonce, newNonce } from '../token/refresh'
import type { FlowContext } from './context'

/** Whose session starts: the user and the identity it logged in with. */
export interface SessionOwner {
  uid: string
  platform: PlatformName
  appId: string
  openid: string
  unionid?: string | undefined
}

/**
 * A new session (a device) of a known user and its first tokens: the record,
 * the cap applied by the authority (with `sessionKey`, the user's newest
 * session_key of the app in the same step), then the token. Shared by a
 * login and by a scan-to-login, which starts a session of the user who
 * confirmed it without a platform code.
 *
 * With a directory, the identity is written to it first (its failure fails
 * the login, before any session exists), and read back once the session is
 * there: a deletion of the user that ran meanwhile removed it, and then the
 * new session is ended at once (`SESSION_EXPIRED`: log in again), so that a
 * deleted user never keeps a session the directory does not know of. A
 * deletion marks the user for a while, and refuses the writes of logins
 * that began before it.
 */
export async function startSession<User extends { id: string }>(
  { config, now }: FlowContext<User>,
  owner: SessionOwner,
  {
    claims,
    device,
    sessionKey,
  }: {
    claims: Record<string, unknown> | undefined
    device: DeviceInfo
    sessionKey?: string | undefined
  },
): Promise<IssuedToken & { id: string }> {
  const { uid, platform, appId, openid, unionid } = owner
  const { policy, directory } = config
  const entry = { uid, platform, appId, openid, ...(unionid ? { unionid } : {}), updatedAt: now }
  if (directory && !(await directory.put(entry))) throw deletedMeanwhile()
  const sid = newSessionId()
  const record: SessionRecord = {
    v: 1,
    uid,
    ...(platform === 'wechat' ? {} : { platform }),
    appId,
    openid,
    ...(unionid ? { unionid } : {}),
    createdAt: now,
    createdAtMs: Date.now(),
    refreshedAt: now,
    expiresAt: now + Math.min(policy.ttl, policy.maxAge),
    gen: 0,
    ...(Object.keys(device).length ? { device } : {}),
    ...(claims ? { claims } : {}),
    data: {},
  }
  const id = await hashSessionId(sid)
  const nonce = newNonce()
  await config.sessions.create(uid, id, record, await hashNonce(nonce), now, sessionKey)
  if (directory && !(await directory.get(uid))) {
    await config.sessions.end(uid, id, now)
    throw deletedMeanwhile()
  }
  return { ...(await issueToken(config, sid, record, nonce, now)), id }
}

/** The user was deleted while their login ran: its session is not theirs to keep. */
const deletedMeanwhile = () =>
  new WxaAuthError('SESSION_EXPIRED', 'The account was deleted while this login ran; log in again.')
