import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { hashSessionId, newSessionId, resolveOptions, type WxaAuthOptions } from '../auth'
import { WxaAuthError } from '../errors'
import type { DefaultUser } from '../hooks'
import { requireLogin } from '../middleware/require-login'
import type { WxaEnv } from '../middleware/session'
import { type ObjectSchema, readJson } from '../schema'
import { RESERVED_CLAIMS, signToken } from '../token/jwt'
import { importKeyRing } from '../token/keys'
import { codeField, UserInfoProperties, userInfoReader } from './wechat-fields'

export const MAX_BODY_SIZE = 16 * 1024 // bytes

/** `POST /auth/login` body. */
export const LoginBody = {
  type: 'object',
  properties: {
    code: codeField('The code from wx.login(); single use, valid for 5 minutes.'),
    ...UserInfoProperties,
  },
  required: ['code'],
} as const satisfies ObjectSchema

/** Rejects bodies over {@link MAX_BODY_SIZE} with 413 before they are read. */
export const limitBody = () =>
  bodyLimit({
    maxSize: MAX_BODY_SIZE,
    onError: () => {
      throw new WxaAuthError('PAYLOAD_TOO_LARGE')
    },
  })

const USER_ID = /^[\w.@-]{1,128}$/

/**
 * The `/auth` routes as a sub-app: `POST /login` (with optional user info
 * verified and decrypted with the fresh session_key) and `POST /logout`.
 * Mount it behind `wxaSession()` with the same options.
 *
 * @example
 * ```ts
 * app.use(wxaSession(options))
 * app.route('/auth', authRoutes(options))
 * ```
 */
export function authRoutes<User extends { id: string } = DefaultUser>(
  options: WxaAuthOptions<User> = {},
) {
  const { config, hooks, now } = resolveOptions(options)
  const routes = new Hono<WxaEnv<User>>()

  routes.post('/login', limitBody(), async (c) => {
    const { code, ...data } = await readJson(c, LoginBody)
    const readUserInfo = userInfoReader(data)
    const { appId, wechat, store, sessionTtl, secrets, issuer, audience } = config(c)
    const ring = await importKeyRing(secrets)
    const { openid, unionid, sessionKey } = await wechat.code2Session(code)
    const userInfo = await readUserInfo(sessionKey, appId)
    const user = await hooks.findOrCreateUser({ appId, openid, ...(unionid ? { unionid } : {}) }, c)
    const uid = String(user?.id ?? '')
    if (!USER_ID.test(uid)) {
      throw new WxaAuthError('INTERNAL_ERROR', undefined, {
        cause: new Error('findOrCreateUser returned a user without a usable id'),
      })
    }
    if (userInfo) await hooks.onUserInfo(userInfo, user, c)

    const time = now()
    const expiresAt = time + sessionTtl
    const sid = newSessionId()
    // Identity first: a session never exists without the identity it came from.
    await store.putIdentity(
      appId,
      openid,
      { v: 1, uid, ...(unionid ? { unionid } : {}), sessionKey, updatedAt: time },
      sessionTtl,
    )
    await store.putSession(
      await hashSessionId(sid),
      {
        v: 1,
        uid,
        appId,
        openid,
        ...(unionid ? { unionid } : {}),
        createdAt: time,
        expiresAt,
        data: {},
      },
      sessionTtl,
    )

    const claims = { ...(await hooks.userToClaims(user)) }
    for (const name of RESERVED_CLAIMS) delete claims[name]
    const token = await signToken(
      ring,
      { ...claims, sub: uid, sid, exp: expiresAt },
      { issuer, audience, now: time },
    )
    c.header('Cache-Control', 'no-store')
    return c.json({
      token,
      tokenType: 'JWT' as const,
      expiresAt: new Date(expiresAt * 1000).toISOString(),
      user,
      ...(userInfo ? { userInfo } : {}),
    })
  })

  routes.post('/logout', requireLogin(), async (c) => {
    const session = c.var.session
    const { store } = config(c)
    await store.deleteSession(session.userId as string, await hashSessionId(session.id as string))
    session.end()
    return c.json({ ok: true as const })
  })

  return routes
}
