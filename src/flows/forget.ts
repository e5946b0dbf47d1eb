import { isWxaAuthError, WxaAuthError } from '../errors'
import { recordAudit } from '../operators/audit'
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
  await forgetUser(flow, session.userId, app.appId, openid, app.platform, 'user')
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
 * Deletes the account of user `uid` for an operator (`actor`: `operator:<kid>`),
 * as the user's own deletion (注销) does: the app's `onDeleteAccount` first
 * (with the user as the directory knows them, `{ id, platform, openid,
 * unionid? }` of their first identity; if it throws, nothing is gone), then
 * {@link forgetUser}.
 */
export async function deleteAccountByOperator<User extends { id: string }>(
  flow: FlowContext<User>,
  uid: string,
  identities: readonly KnownIdentity[],
  actor: string,
): Promise<void> {
  const [first] = identities
  const user = first
    ? {
        id: uid,
        platform: first.platform,
        openid: first.openid,
        ...(first.unionid ? { unionid: first.unionid } : {}),
      }
    : { id: uid }
  await flow.hooks.onDeleteAccount(user as unknown as User, flow.c)
  // The same steps as the user's own deletion: the directory (a phone-only row
  // included) and its deletion mark, every identity, every session.
  await forgetAccount(flow, uid, actor, first)
}

/**
 * Forgets a user (account deletion, WeChat's cancellation, an operator's
 * deletion): the directory's entries first (if that fails, nothing has
 * ended and the deletion can be tried again), then every session ends,
 * every identity and unionid link goes (the authority keeps their index and
 * owes the deletes), the identity of (appId, openid) itself, whether indexed
 * or not, and every identity the directory held; then the directory once
 * more, for a login that wrote it meanwhile. An `account.deleted` audit
 * record says by whom.
 *
 * @param actor who deleted: `user`, `platform:<name>`, `operator:<kid>`
 */
export async function forgetUser<User extends { id: string }>(
  flow: FlowContext<User>,
  uid: string,
  appId: string,
  openid: string,
  platform: PlatformName,
  actor = 'user',
): Promise<void> {
  await forgetAccount(flow, uid, actor, { appId, openid, platform })
}

/**
 * {@link forgetUser} by the user id alone, as an operator deletes an account:
 * the identities to delete are those the authority indexed and the directory
 * holds. The same steps, the same audit record.
 *
 * @param actor who deleted, e.g. `operator:<kid>`
 * @returns how many sessions ended
 */
export async function forgetAccount<User extends { id: string }>(
  flow: FlowContext<User>,
  uid: string,
  actor: string,
  known?: { appId: string; openid: string; platform: PlatformName },
): Promise<number> {
  const { config, now } = flow
  const { directory } = config
  const held = (await directory?.get(uid))?.identities ?? []
  await directory?.deleteUser(uid, now)
  const ended = await config.sessions.forget(uid, now)
  const identities = new Map<string, { appId: string; openid: string; platform: PlatformName }>()
  for (const entry of [...(known ? [known] : []), ...held]) {
    identities.set(`${entry.platform}\n${entry.appId}\n${entry.openid}`, entry)
  }
  for (const identity of identities.values()) {
    await config.identities.delete(identity.appId, identity.openid, identity.platform)
  }
  // A login that wrote the directory after the first delete and whose session the forget ended.
  await directory?.deleteUser(uid, now)
  void recordAudit(flow, {
    type: 'account.deleted',
    uid,
    actor,
    detail: { sessionsEnded: ended.length, identities: identities.size },
  })
  return ended.length
}
