import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import { resolveOptions, type WxaAuthOptions } from '../config'
import { isWxaAuthError, WxaAuthError } from '../errors'
import { rateLimit } from '../middleware/rate-limit'
import { requireLogin } from '../middleware/require-login'
import type { WxaEnv } from '../middleware/session'
import { describe, json, WECHAT_CALL_ERRORS } from '../openapi/describe'
import type { DefaultUser } from '../user/hooks'
import { decryptData } from '../wechat/crypto'
import { withoutWatermark } from '../wechat/user-info'
import { limitBody } from './auth'
import { DecryptBody, DecryptResponse, PhoneBody, PhoneResponse } from './schemas'

/**
 * The WeChat data routes as a sub-app, for logged-in users:
 * `POST /decrypt` (encryptedData with the newest session_key) and
 * `POST /phone` (a phone-number button code, through the stable access token).
 * Mount it behind `wxaSession()` with the same options.
 *
 * @example
 * ```ts
 * app.use(wxaSession(options))
 * app.route('/auth', authRoutes(options))
 * app.route('/auth', wechatDataRoutes(options))
 * ```
 */
export function wechatDataRoutes<User extends { id: string } = DefaultUser>(
  options: WxaAuthOptions<User> = {},
) {
  const { config, hooks, log } = resolveOptions(options)
  const routes = new Hono<WxaEnv<User>>()
  // Each call costs a WeChat round trip (checksession, a billed phone lookup): per user.
  const perUser = rateLimit({
    limiter: (c) => config(c).rateLimits.user,
    key: (c) => `user:${c.var.session.userId}`,
    log,
  })
  /** The app of the request's session. */
  const appOf = (c: Context<WxaEnv<User>>) => {
    const app = config(c).apps.get(c.var.session.appId as string)
    if (!app) throw new WxaAuthError('UNKNOWN_APP')
    return app
  }

  routes.post(
    '/decrypt',
    describe({
      tag: 'wechat',
      summary: 'Decrypt encryptedData from the mini program',
      description:
        'With the newest session_key of the user. When that key is no longer valid at WeChat the answer is 409 WECHAT_SESSION_KEY_STALE: call wx.login, log in again and resend.',
      auth: true,
      body: true,
      response: DecryptResponse,
      errors: [
        'RATE_LIMITED',
        'UNKNOWN_APP',
        'WECHAT_DECRYPT_FAILED',
        'WECHAT_SESSION_KEY_STALE',
        'WECHAT_ACCESS_TOKEN_INVALID',
        ...WECHAT_CALL_ERRORS,
      ],
    }),
    requireLogin(),
    perUser,
    limitBody(),
    json(DecryptBody),
    async (c) => {
      const { encryptedData, iv } = c.req.valid('json')
      const { appId, wechat, accessToken } = appOf(c)
      const openid = c.var.session.openid as string
      const identity = await config(c).identities.get(appId, openid)
      if (!identity) throw new WxaAuthError('WECHAT_SESSION_KEY_STALE')
      const { sessionKey } = identity
      try {
        // A unionId inside is shown, never trusted: unionids come from code2Session only.
        const data = await decryptData({ encryptedData, iv, sessionKey, appId })
        c.header('Cache-Control', 'no-store')
        return c.json({ data: withoutWatermark(data) })
      } catch (err) {
        if (!isWxaAuthError(err, 'WECHAT_DECRYPT_FAILED')) throw err
        // The usual cause: a later wx.login replaced the session_key at WeChat.
        // Only WeChat knows, and its answer is the same whatever check failed.
        const valid = await accessToken.withToken((token) =>
          wechat.checkSessionKey(token, openid, sessionKey),
        )
        throw valid ? err : new WxaAuthError('WECHAT_SESSION_KEY_STALE')
      }
    },
  )

  routes.post(
    '/phone',
    describe({
      tag: 'wechat',
      summary: 'The phone number behind a phone-number button code',
      description:
        'WeChat checks that the code was issued to this user; a code is never retried after a failure that may have spent it.',
      auth: true,
      body: true,
      response: PhoneResponse,
      errors: [
        'RATE_LIMITED',
        'UNKNOWN_APP',
        'WECHAT_PHONE_CODE_INVALID',
        'WECHAT_PHONE_QUOTA_EXHAUSTED',
        'WECHAT_ACCESS_TOKEN_INVALID',
        ...WECHAT_CALL_ERRORS,
      ],
    }),
    requireLogin(),
    perUser,
    limitBody(),
    json(PhoneBody),
    async (c) => {
      const { code } = c.req.valid('json')
      const { wechat, accessToken } = appOf(c)
      const openid = c.var.session.openid as string
      const phone = await accessToken.withToken((token) =>
        wechat.getPhoneNumber(token, code, openid),
      )
      await hooks.onPhoneNumber(phone, c.var.user as User, c)
      c.header('Cache-Control', 'no-store')
      return c.json({ phone })
    },
  )

  return routes
}
