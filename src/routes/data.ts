import { decrypt, phone } from '../flows/data'
import { limitBody } from '../middleware/body-limit'
import { limits } from '../middleware/rate-limit'
import { requireLogin } from '../middleware/require-login'
import type { WxaEnv } from '../middleware/session'
import { describe, json, UPSTREAM_CALL_ERRORS } from '../openapi/describe'
import type { ResolvedOptions } from '../options'
import { Hono } from '../util/hono'
import { flowContext } from './flow-context'
import { DecryptBody, DecryptResponse, PhoneBody, PhoneResponse } from './schemas'

/**
 * The data routes, for logged-in users: `POST /decrypt` (encryptedData with
 * the newest session_key) and `POST /phone` (a phone-number button's code).
 * @internal
 */
export function dataRoutes<User extends { id: string }>(resolved: ResolvedOptions<User>) {
  const routes = new Hono<WxaEnv<User>>()
  // Each call costs the platform a round trip (checksession, a billed phone lookup): per user.
  const { userLimit } = limits(resolved)

  routes.post(
    '/decrypt',
    describe({
      tag: 'data',
      summary: 'Decrypt encryptedData from the mini program',
      description:
        'With the newest session_key of the user. When that key is no longer valid at the platform the answer is 409 SESSION_KEY_STALE: log in again and resend. With code (a fresh wx.login code of the same user), with the session_key it yields, which is kept; after a Cloud Hosting login, which has none, 409 LOGIN_CODE_REQUIRED asks for it.',
      auth: true,
      body: true,
      response: DecryptResponse,
      errors: [
        'RATE_LIMITED',
        'UNKNOWN_APP',
        'DECRYPT_FAILED',
        'SESSION_KEY_STALE',
        'LOGIN_CODE_REQUIRED',
        'NOT_OFFERED',
        'CODE_INVALID',
        'CODE_USED',
        'REAUTH_REQUIRED',
        'ACCESS_TOKEN_INVALID',
        ...UPSTREAM_CALL_ERRORS,
      ],
    }),
    requireLogin(),
    userLimit,
    limitBody(),
    json(DecryptBody),
    async (c) => {
      const data = await decrypt(flowContext(resolved, c), c.var.session, c.req.valid('json'))
      c.header('Cache-Control', 'no-store')
      return c.json({ data })
    },
  )

  routes.post(
    '/phone',
    describe({
      tag: 'data',
      summary: 'The phone number behind a phone-number button code',
      description:
        'The platform checks that the code was issued to this user; a code is never retried after a failure that may have spent it. On Alipay the body is my.getPhoneNumber’s { response, sign }: checked with Alipay’s public key, then decrypted with ALIPAY_AES_KEY.',
      auth: true,
      body: true,
      response: PhoneResponse,
      errors: [
        'RATE_LIMITED',
        'UNKNOWN_APP',
        'NOT_OFFERED',
        'INVALID_REQUEST',
        'PHONE_CODE_INVALID',
        'SIGNATURE_INVALID',
        'DECRYPT_FAILED',
        'WECHAT_PHONE_QUOTA_EXHAUSTED',
        'ACCESS_TOKEN_INVALID',
        ...UPSTREAM_CALL_ERRORS,
      ],
    }),
    requireLogin(),
    userLimit,
    limitBody(),
    json(PhoneBody),
    async (c) => {
      const number = await phone(
        flowContext(resolved, c),
        c.var.session,
        c.var.user as User,
        c.req.valid('json'),
      )
      c.header('Cache-Control', 'no-store')
      return c.json({ phone: number })
    },
  )

  return routes
}
