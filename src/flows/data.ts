import { isWxaAuthError, WxaAuthError } from '../errors'
import type { PhoneNumber } from '../platforms/platform'
import { withoutWatermark } from '../platforms/user-info'
import type { Session } from '../session/session'
import { appOf, type FlowContext } from './context'

/**
 * Decrypts data the mini program hands over with the user's newest
 * session_key. When it fails because a later login replaced the key at the
 * platform, `SESSION_KEY_STALE` says to log in again (asked of the platform
 * where it can tell; WeChat can). With a fresh login `code` of the same user,
 * its session_key decrypts and is kept: the way after a Cloud Hosting login,
 * which has none (`LOGIN_CODE_REQUIRED` until then).
 */
export async function decrypt<User extends { id: string }>(
  flow: FlowContext<User>,
  session: Session,
  input: { encryptedData: string; iv: string; code?: string | undefined },
): Promise<Record<string, unknown>> {
  const app = appOf(flow.config, session.appId)
  // A platform without a session_key (Alipay) has nothing to decrypt with.
  if (!app.decrypt) throw new WxaAuthError('NOT_OFFERED')
  const openid = session.openid as string
  const uid = session.userId as string
  let sessionKey: string | null | undefined
  if (input.code !== undefined) {
    const fresh = await app.code2Session({ code: input.code })
    if (fresh.openid !== openid) throw new WxaAuthError('REAUTH_REQUIRED')
    sessionKey = fresh.sessionKey
    if (sessionKey) {
      await flow.config.sessions.setSessionKey(uid, app.appId, app.platform, sessionKey)
    }
  } else {
    sessionKey =
      (await flow.config.sessions.sessionKey(uid, app.appId, app.platform)) ??
      // A session of a login before the key moved to the authority.
      (await flow.config.identities.get(app.appId, openid, app.platform))?.sessionKey
  }
  if (!sessionKey) {
    throw new WxaAuthError(
      flow.config.headerLogin ? 'LOGIN_CODE_REQUIRED' : 'SESSION_KEY_STALE',
      undefined,
      { platform: app.platform },
    )
  }
  try {
    // A unionId inside is shown, never trusted: unionids come from code2Session only.
    return withoutWatermark(await app.decrypt({ ...input, sessionKey }))
  } catch (err) {
    if (!isWxaAuthError(err, 'DECRYPT_FAILED') || !app.checkSessionKey) throw err
    // The usual cause: a later login replaced the session_key at the platform.
    // Only the platform knows, and its answer is the same whatever check failed.
    throw (await app.checkSessionKey(openid, sessionKey))
      ? err
      : new WxaAuthError('SESSION_KEY_STALE', undefined, { platform: app.platform })
  }
}

/**
 * The phone number behind a phone-number button's code, for the request's
 * user; on Alipay, inside `my.getPhoneNumber`'s signed `{ response, sign }`.
 */
export async function phone<User extends { id: string }>(
  flow: FlowContext<User>,
  session: Session,
  user: User,
  input: { code?: string | undefined; response?: string | undefined; sign?: string | undefined },
): Promise<PhoneNumber> {
  const app = appOf(flow.config, session.appId)
  const { code, response, sign } = input
  let number: PhoneNumber
  if (response !== undefined || sign !== undefined) {
    if (!response || !sign) {
      throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: send response with sign.')
    }
    if (!app.signedPhone) throw new WxaAuthError('NOT_OFFERED')
    number = await app.signedPhone({ response, sign })
  } else {
    if (!code) throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: code is required.')
    if (!app.phone) throw new WxaAuthError('NOT_OFFERED')
    number = await app.phone(code, session.openid as string)
  }
  await flow.hooks.onPhoneNumber(number, user, flow.c)
  // Findable by it from now on: the keyed hash, never the number.
  const { directory } = flow.config
  const hash = directory && session.userId ? await flow.config.phoneHash(number) : null
  if (hash && session.userId && !(await directory?.putPhone(session.userId, hash, flow.now))) {
    throw new WxaAuthError('SESSION_EXPIRED')
  }
  return number
}

/**
 * Has the platform issue the user a new session_key (a leaked one decrypts
 * everything the mini program sends) and keeps it with the user's sessions.
 */
export async function resetSessionKey<User extends { id: string }>(
  flow: FlowContext<User>,
  { appId, openid }: { appId: string; openid: string },
): Promise<void> {
  const app = appOf(flow.config, appId)
  if (!app.resetSessionKey) throw new WxaAuthError('NOT_OFFERED')
  const identity = await flow.config.identities.get(appId, openid, app.platform)
  if (!identity) throw new WxaAuthError('SESSION_KEY_STALE')
  const { sessions } = flow.config
  const current =
    (await sessions.sessionKey(identity.uid, appId, app.platform)) ?? identity.sessionKey
  if (!current) throw new WxaAuthError('SESSION_KEY_STALE')
  const sessionKey = await app.resetSessionKey(openid, current)
  await sessions.setSessionKey(identity.uid, appId, app.platform, sessionKey)
  if (identity.sessionKey !== undefined) {
    // The old key must not outlive the reset in a 0.2 identity.
    const { sessionKey: _old, ...rest } = identity
    await flow.config.identities.put(appId, openid, { ...rest, updatedAt: flow.now }, app.platform)
  }
}
