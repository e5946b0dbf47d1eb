import { WxaAuthError } from '../errors'
import { clientAddressOf, deviceSummary, recordAudit } from '../operators/audit'
import { type App, loginFields } from '../platforms/index'
import type { PhoneNumber, PlatformSession, TrustedCaller } from '../platforms/platform'
import { readUserInfo, type UserInfoInput } from '../platforms/user-info'
import { deviceHints } from '../session/device'
import { defaultUserIdFor, IDENTITY_SLACK } from '../session/identities'
import type { DeviceInfo } from '../session/record'
import { type IssuedToken, ownClaims } from '../token/issue'
import { importKeyRing } from '../token/keys'
import { appOf, type FlowContext } from './context'
import { oncePerCode } from './login-replay'
import { startSession } from './start-session'

const USER_ID = /^[\w.@-]{1,128}$/

export interface LoginInput extends UserInfoInput {
  /** The code from the platform's login (`wx.login`, `tt.login`, `qq.login`). */
  code?: string | undefined
  /** Without a code, by a login kind of trusted headers (Cloud Hosting): the user the gateway names. */
  trusted?: (TrustedCaller & { platform: string }) | undefined
  /** The body as read: the fields of the platform's login kind are taken from it (Douyin's `anonymousCode`). */
  fields?: Readonly<Record<string, unknown>> | undefined
  /** The app logging in; default: the first configured. */
  appId?: string | undefined
  /** A phone-number button's code: the number comes back with the token. */
  phoneCode?: string | undefined
  device?: DeviceInfo | undefined
  userAgent?: string | undefined
}

export type LoginResult<User> = IssuedToken & {
  user: User
  userInfo?: Record<string, unknown>
  phone?: PhoneNumber
}

/**
 * The app a login by trusted headers (Cloud Hosting) is for: the one the gateway named
 * (`UNKNOWN_APP` for any other, e.g. a forged `X-WX-APPID`), and only when
 * the login brings no user info, which needs a session_key.
 */
function trustedApp<User extends { id: string }>(
  { config }: FlowContext<User>,
  trusted: TrustedCaller & { platform: string },
  input: LoginInput,
): App {
  const app = appOf(config, trusted.appId)
  if (
    app.platform !== trusted.platform ||
    (input.appId !== undefined && input.appId !== app.appId)
  ) {
    throw new WxaAuthError('UNKNOWN_APP')
  }
  if (input.rawData !== undefined || input.encryptedData !== undefined) {
    throw new WxaAuthError('LOGIN_CODE_REQUIRED')
  }
  return app
}

/**
 * A login: the platform's code2Session (in the Cloud Hosting mode, without a
 * code, the identity WeChat's gateway vouches for, and no session_key), the
 * optional user info checked with the fresh session_key, the user from the hooks, the identity (newest
 * session_key) and then a new session (the cap applied by the authority),
 * and last the token. No token exists without its session, no session
 * without its identity.
 */
export async function login<User extends { id: string }>(
  flow: FlowContext<User>,
  input: LoginInput,
): Promise<LoginResult<User>> {
  const { config } = flow
  const { trusted } = input
  const app = trusted
    ? trustedApp(flow, trusted, input)
    : appOf(config, input.appId ?? config.defaultAppId)
  const kind = config.platforms.find(({ name }) => name === app.platform)?.logins[
    app.loginKind ?? 'code'
  ]
  // A code that may come twice (an OAuth redirect): its first answer, again.
  if (!trusted && input.code && kind?.replay) {
    const { code } = input
    return oncePerCode(flow, { appId: app.appId, code, window: kind.replay }, () =>
      loginTo(flow, app, input),
    )
  }
  return loginTo(flow, app, input)
}

/** {@link login} for `app`, resolved. */
async function loginTo<User extends { id: string }>(
  flow: FlowContext<User>,
  app: App,
  input: LoginInput,
): Promise<LoginResult<User>> {
  const { config, hooks, now, c } = flow
  const { trusted } = input
  const { appId, platform } = app
  // Everything that can refuse the request is checked before the code is spent.
  const userInfo = readUserInfo(input)
  const device = {
    ...deviceHints(input.device, input.userAgent),
    ...(app.door ? { door: app.door } : {}),
  }
  if (input.phoneCode && !app.phone) throw new WxaAuthError('NOT_OFFERED')
  if (
    (input.rawData !== undefined && !app.verifyRawData) ||
    (input.encryptedData !== undefined && !app.decrypt)
  ) {
    throw new WxaAuthError('NOT_OFFERED')
  }
  await importKeyRing(config.secrets)
  const platformSession: PlatformSession =
    trusted ??
    (await app.code2Session({
      ...loginFields(
        config.platforms.find(({ name }) => name === platform),
        app.loginKind ?? 'code',
        input.fields ?? {},
      ),
      code: input.code ?? '',
    }))
  const { openid, sessionKey, unionid, anonymousOpenid } = platformSession
  const info = sessionKey ? await userInfo(app, sessionKey) : platformSession.userInfo
  // The phone code is checked against this user by the platform and never retried once sent.
  let phone: PhoneNumber | undefined
  if (input.phoneCode && app.phone) phone = await app.phone(input.phoneCode, openid)
  const identity = await config.identities.get(appId, openid, platform)
  const who = {
    platform,
    appId,
    openid,
    ...(unionid ? { unionid } : {}),
    ...(anonymousOpenid ? { anonymousOpenid } : {}),
    ...(phone ? { phone } : {}),
  }
  const user = flow.ownUsers
    ? await hooks.findOrCreateUser(who, c)
    : ({
        id: await defaultUserIdFor(who, identity, config, now),
        platform,
        openid,
        ...(unionid ? { unionid } : {}),
      } as unknown as User)
  const uid = String(user?.id ?? '')
  if (!USER_ID.test(uid)) {
    throw new WxaAuthError('INTERNAL_ERROR', undefined, {
      cause: new Error('findOrCreateUser returned a user without a usable id'),
    })
  }
  if (info) await hooks.onUserInfo(info, user, c)
  if (phone) await hooks.onPhoneNumber(phone, user, c)

  const { policy } = config
  // Identity first; it outlives every session it vouches for (refreshes extend
  // them up to SESSION_MAX_AGE). Rewritten only when it changed or at most
  // once a day: a returning user's login writes KV once (the session's
  // replica), and stays under KV's one write a second per key. The
  // session_key, which the platform rotates at a login, is kept by the
  // user's session authority with the session, in the same step.
  if (
    !identity ||
    identity.sessionKey !== undefined ||
    identity.uid !== uid ||
    identity.unionid !== unionid ||
    identity.expiresAt - now < policy.maxAge
  ) {
    await config.identities.put(
      appId,
      openid,
      {
        v: 1,
        uid,
        ...(unionid ? { unionid } : {}),
        updatedAt: now,
        expiresAt: now + policy.maxAge + IDENTITY_SLACK,
      },
      platform,
    )
  }
  // The phone's keyed hash, with the identity: a write that fails or comes after a deletion fails the login.
  const phoneHash = phone && config.directory ? await config.phoneHash(phone) : null
  if (phoneHash && !(await config.directory?.putPhone(uid, phoneHash, now))) {
    throw new WxaAuthError(
      'SESSION_EXPIRED',
      'The account was deleted while this login ran; log in again.',
    )
  }
  const { id: session, ...token } = await startSession(
    flow,
    { uid, platform, appId, openid, unionid },
    { claims: ownClaims(await hooks.userToClaims(user)), device, sessionKey },
  )
  void recordAudit(flow, {
    type: 'login',
    uid,
    actor: 'user',
    detail: {
      platform,
      app: appId,
      kind: trusted ? 'headers' : (app.loginKind ?? 'code'),
      session,
      ...deviceSummary(device),
      ...clientAddressOf(config, c),
      ...(phone ? { phone: true } : {}),
    },
  })
  return {
    ...token,
    user,
    ...(info ? { userInfo: info } : {}),
    ...(phone ? { phone } : {}),
  }
}
