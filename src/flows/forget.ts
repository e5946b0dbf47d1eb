import { isWxaAuthError, WxaAuthError } from '../errors'
import type { PlatformName } from '../platforms/index'
import type { TrustedCaller } from '../platforms/platform'
import type { Session } from '../session/session'
import { appOf, type FlowContext } from './context'

/**
 * Deletes the account of the request's user (注销), confirmed by a fresh
 * login code of the same user, or in the Cloud Hosting mode by the gateway's
 * headers naming that user on this very request: the app's hook first (if it
 * throws, nothing is gone and the user can try again), then every session and
 * every identity and unionid link the user logged in with, in any app.
 */
export async function deleteAccount<User extends { id: string }>(
  flow: FlowContext<User>,
  session: Session,
  user: User,
  confirm: { code: string; state?: string } | { trusted: TrustedCaller },
): Promise<void> {
  const { config, hooks, c } = flow
  const app = appOf(config, session.appId)
  let openid: string | undefined
  if ('trusted' in confirm) {
    if (confirm.trusted.appId === app.appId) openid = confirm.trusted.openid
  } else {
    // A code from a login a moment ago (codes live 5 minutes) of this very user.
    try {
      ;({ openid } = await app.code2Session(confirm))
    } catch (err) {
      if (isWxaAuthError(err, 'CODE_INVALID', 'CODE_USED')) {
        throw new WxaAuthError('REAUTH_REQUIRED', undefined, { cause: err })
      }
      throw err
    }
  }
  if (!openid || openid !== session.openid || !session.userId) {
    throw new WxaAuthError('REAUTH_REQUIRED')
  }
  await hooks.onDeleteAccount(user, c)
  await forgetUser(flow, session.userId, app.appId, openid, app.platform)
  session.end()
}

/** One identity of a user, as the directory lists them. */
export interface KnownIdentity {
  platform: PlatformName
  appId: string
  openid: string
  unionid?: string | undefined
}

/**
 * Deletes the account of user `uid` for an operator, as the user's own
 * deletion (注销) does: the app's `onDeleteAccount` first (with the user as
 * the directory knows them: `{ id, platform, openid, unionid? }` of their
 * first identity; if it throws, nothing is gone), then every session, every
 * identity and unionid link, the profile, the ban and the directory's entries.
 */
export async function deleteAccountByOperator<User extends { id: string }>(
  flow: FlowContext<User>,
  uid: string,
  identities: readonly KnownIdentity[],
): Promise<void> {
  const [first, ...others] = identities
  const user = first
    ? {
        id: uid,
        platform: first.platform,
        openid: first.openid,
        ...(first.unionid ? { unionid: first.unionid } : {}),
      }
    : { id: uid }
  await flow.hooks.onDeleteAccount(user as unknown as User, flow.c)
  if (!first) {
    await flow.config.sessions.forget(uid, flow.now)
    return
  }
  await forgetUser(flow, uid, first.appId, first.openid, first.platform)
  // The identities the index no longer lists (their sessions long over): deleted by name.
  for (const { appId, openid, platform } of others) {
    await flow.config.identities.delete(appId, openid, platform)
  }
}

/**
 * Forgets a user (account deletion, WeChat's cancellation): every session
 * ends, every identity and unionid link goes (the authority keeps their
 * index and owes the deletes), and the identity of (appId, openid) itself,
 * whether indexed or not.
 */
export async function forgetUser<User extends { id: string }>(
  flow: FlowContext<User>,
  uid: string,
  appId: string,
  openid: string,
  platform: PlatformName,
): Promise<void> {
  await flow.config.sessions.forget(uid, flow.now)
  await flow.config.identities.delete(appId, openid, platform)
}
