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
): Promise<IssuedToken> {
  const { uid, platform, appId, openid, unionid } = owner
  const { policy } = config
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
  return issueToken(config, sid, record, nonce, now)
}
