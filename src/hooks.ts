import type { Context } from 'hono'
import { platformOf } from './platforms/default'
import type { PlatformName } from './platforms/index'
import type { PhoneNumber } from './platforms/platform'
import type { AuthorizationEvent } from './platforms/wechat/events'
import { platformPart } from './storage/keys'
import type { TokenClaims } from './token/jwt'
import { base64url } from './util/base64url'

/** Who the platform says the user is, after its code2Session. */
export interface PlatformIdentity {
  /** The mini program platform of the app. */
  platform: PlatformName
  appId: string
  openid: string
  /**
   * From code2Session only: the apps of one developer entity on one platform
   * share it (on Douyin, of one host app too). Never comparable across platforms.
   */
  unionid?: string
  /** Douyin, when the login sent `anonymousCode`: the openid of the user's visits before logging in. */
  anonymousOpenid?: string
  /** The user's phone number, when the login carried a `phoneCode`. */
  phone?: PhoneNumber
}

/** @deprecated the 0.2 name of {@link PlatformIdentity} */
export type WeChatIdentity = PlatformIdentity

/** The user wxa-auth builds when no hooks are given: nothing beyond the session. */
export interface DefaultUser {
  /**
   * Opaque; never the openid. Stable per (platform, appid, openid), or with
   * `IDENTITY=unionid` per unionid across the apps of the platform that share it.
   */
  id: string
  /** The mini program platform the user logged in on. */
  platform: PlatformName
  openid: string
  unionid?: string
}

/**
 * The hooks that make the user model pluggable (the successors of
 * django-jwt-session-auth's USER_TO_PAYLOAD / PAYLOAD_TO_USER).
 */
export interface UserHooks<User extends { id: string }> {
  /**
   * Called on every login with the identity the platform vouched for. Returns the
   * user; its `id` becomes the token's `sub` and keys the sessions.
   * @default a {@link DefaultUser} derived from the identity, stored nowhere
   */
  findOrCreateUser?: (identity: PlatformIdentity, c: Context) => User | Promise<User>
  /**
   * Extra claims for the token. Keep them small and public: the token is
   * readable by the client. Reserved claims (`sub`, `sid`, `exp`, …) are ignored.
   * @default no extra claims
   */
  userToClaims?: (user: User) => Record<string, unknown> | Promise<Record<string, unknown>>
  /**
   * Rebuilds the user on each authenticated request, after the session is
   * loaded (`c.var.session`). Return null to treat the request as anonymous.
   * @default a {@link DefaultUser} from the token's `sub` and the session
   */
  claimsToUser?: (claims: TokenClaims, c: Context) => User | null | Promise<User | null>
  /**
   * Called when a login carried `rawData` + `signature` and/or `encryptedData`
   * + `iv` that verified with the fresh session_key, after `findOrCreateUser`
   * and before the session is written (throwing aborts the login). `userInfo`
   * is the decrypted object without its `watermark`, or the parsed `rawData`
   * when only that was sent. The same object goes back to the client.
   * @default does nothing
   * @example
   * ```ts
   * onUserInfo: (info, user, c) => db(c).saveProfile(user.id, info.nickName, info.avatarUrl)
   * ```
   */
  onUserInfo?: (userInfo: Record<string, unknown>, user: User, c: Context) => void | Promise<void>
  /**
   * Called by `POST /auth/phone` with the number the platform returned for the
   * logged-in user, before it goes back to the client.
   * @default does nothing
   * @example
   * ```ts
   * onPhoneNumber: (phone, user, c) => db(c).setPhone(user.id, phone.purePhoneNumber)
   * ```
   */
  onPhoneNumber?: (phone: PhoneNumber, user: User, c: Context) => void | Promise<void>
  /**
   * Called by `DELETE /auth/account` (注销) once the user proved it is them
   * with a fresh `wx.login` code, before wxa-auth ends their sessions and
   * deletes their identity. Delete what your app stores about the user here;
   * throwing aborts the deletion, so the user can try again.
   * @default does nothing
   * @example
   * ```ts
   * onDeleteAccount: (user, c) => db(c).deleteUser(user.id)
   * ```
   */
  onDeleteAccount?: (user: User, c: Context) => void | Promise<void>
  /**
   * Called by `POST /wechat/events` when the user withdrew an authorization
   * (`user_authorization_revoke`; `event.revokeInfo` says which). No session
   * ends: a withdrawal is not a logout. wxa-auth has deleted what it keeps of
   * the withdrawn data (`event.deleted`: the nickname for 6 and 19, the
   * avatar for 6 and 20); WeChat's rules expect you to delete yours. Called
   * for every code, Bluetooth (4) and location (13) too. `event.uid` may be
   * null (see {@link AuthorizationEvent}). Answer
   * within WeChat's 5 seconds: hand slow work to `c.executionCtx.waitUntil`.
   * Throwing answers 500 and WeChat retries the push; the hook runs again.
   * Each push is handled once, but keep it idempotent (see the README).
   * @default does nothing
   * @example
   * ```ts
   * onAuthorizationRevoked: (event, c) => db(c).forgetProfile(event.appId, event.openid)
   * ```
   */
  onAuthorizationRevoked?: (
    event: AuthorizationEvent<'user_authorization_revoke'>,
    c: Context,
  ) => void | Promise<void>
  /**
   * Called by `POST /wechat/events` when the user withdrew the phone number
   * (`user_authorization_revoke` with RevokeInfo 8): delete the number you
   * keep. `onAuthorizationRevoked` is called too. wxa-auth keeps no numbers.
   * @default does nothing
   * @example
   * ```ts
   * onPhoneNumberRevoked: (event, c) => db(c).forgetPhone(event.appId, event.openid)
   * ```
   */
  onPhoneNumberRevoked?: (
    event: AuthorizationEvent<'user_authorization_revoke'>,
    c: Context,
  ) => void | Promise<void>
  /**
   * Called by `POST /wechat/events` when the user deleted their WeChat account
   * (`user_authorization_cancellation`): sessions ended, identity deleted once
   * this returns, as for {@link UserHooks.onAuthorizationRevoked}. The rules
   * expect you to delete the user's personal data.
   * @default does nothing
   * @example
   * ```ts
   * onAccountCancelled: (event, c) => db(c).deleteUser(event.appId, event.openid)
   * ```
   */
  onAccountCancelled?: (
    event: AuthorizationEvent<'user_authorization_cancellation'>,
    c: Context,
  ) => void | Promise<void>
  /**
   * Called by `POST /wechat/events` when WeChat cleaned up the user's profile
   * (`user_info_modified`): wxa-auth has cleared the nickname and avatar it
   * keeps; refresh or clear yours. Sessions are left alone.
   * @default does nothing
   * @example
   * ```ts
   * onUserInfoModified: (event, c) => db(c).clearAvatar(event.appId, event.openid)
   * ```
   */
  onUserInfoModified?: (
    event: AuthorizationEvent<'user_info_modified'>,
    c: Context,
  ) => void | Promise<void>
}

async function opaqueId(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return `u_${base64url(new Uint8Array(digest).subarray(0, 18))}`
}

/**
 * The opaque user id of the default user model: sha256 of (appid, openid)
 * for WeChat, of (platform, appid, openid) for the others, base64url.
 * `platform` is optional for 0.3's callers, who name none (WeChat, by
 * `platformOf`); wxa-auth itself always names it.
 */
export const defaultUserId = (appId: string, openid: string, platform?: PlatformName) =>
  opaqueId(`wxa-auth:user:${platformPart(platformOf(platform))}${appId}:${openid}`)

/**
 * The opaque id of a user first seen with a unionid of `platform` (`IDENTITY=unionid`).
 * `platform` is optional for 0.3's callers, as for {@link defaultUserId}.
 */
export const unionUserId = (unionid: string, platform?: PlatformName) =>
  opaqueId(`wxa-auth:unionid:${platformPart(platformOf(platform))}${unionid}`)

export const defaultHooks: Required<UserHooks<DefaultUser>> = {
  async findOrCreateUser({ platform, appId, openid, unionid }) {
    return {
      id: await defaultUserId(appId, openid, platform),
      platform,
      openid,
      ...(unionid ? { unionid } : {}),
    }
  },
  userToClaims: () => ({}),
  onUserInfo: () => {},
  onPhoneNumber: () => {},
  onDeleteAccount: () => {},
  onAuthorizationRevoked: () => {},
  onPhoneNumberRevoked: () => {},
  onAccountCancelled: () => {},
  onUserInfoModified: () => {},
  claimsToUser(claims, c) {
    const session = c.get('session')
    if (!session?.openid) return null
    return {
      id: claims.sub,
      platform: platformOf(session.platform),
      openid: session.openid,
      ...(session.unionid ? { unionid: session.unionid } : {}),
    }
  },
}
