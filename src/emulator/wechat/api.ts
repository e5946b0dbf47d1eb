import type { Hono } from 'hono'
import { jscode2sessionRoute } from '../jscode2session'
import {
  ACCESS_TOKEN_LIFETIME,
  type AccessTokenState,
  type EmulatedUser,
  type EmulatorState,
  expectedSignature,
  newCode,
  newSessionKey,
  PHONE_CODE_TTL,
  type PhoneCode,
  wx,
  wxError,
} from './state'
import { wxacodeRoute } from './wxacode'

/**
 * WeChat's face: the server API paths and shapes a Worker calls, with
 * WeChat's error codes.
 */
export function wechatApi(app: Hono, state: EmulatorState) {
  const { storage, now, getUser, putUser, appIds, secretOf, injectFault, body, rejectToken } = state
  app.get('/sns/jscode2session', jscode2sessionRoute(state, 'wechat'))
  wxacodeRoute(app, state)

  // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
  app.post('/cgi-bin/stable_token', async (c) => {
    const { grant_type, appid, secret, force_refresh } = await body(c.req.raw)
    await storage.put(
      'stableTokenCalls',
      ((await storage.get<number>('stableTokenCalls')) ?? 0) + 1,
    )
    if (grant_type !== 'client_credential') return wxError(40002, 'invalid grant_type')
    if (typeof appid !== 'string' || !appIds.has(appid)) return wxError(40013, 'invalid appid')
    if (secret !== secretOf(appid)) return wxError(40125, 'invalid appsecret')
    let state = await storage.get<AccessTokenState>(`accessToken:${appid}`)
    if (force_refresh === true || !state || state.expired || now() >= state.expiresAt) {
      const lifetime = (await storage.get<number>('accessTokenLifetime')) ?? ACCESS_TOKEN_LIFETIME
      state = { current: `emu_${newCode()}`, expiresAt: now() + lifetime, expired: false }
      await storage.put(`accessToken:${appid}`, state)
    }
    return wx({ access_token: state.current, expires_in: state.expiresAt - now() })
  })

  // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/phone-number/getPhoneNumber.html
  app.post('/wxa/business/getuserphonenumber', async (c) => {
    const token = await rejectToken(c.req.query('access_token'))
    if (token instanceof Response) return token
    const { code, openid } = await body(c.req.raw)
    if (typeof code !== 'string' || !code) return wxError(41008, 'missing code')
    if (await storage.get<boolean>('phoneQuotaExhausted')) {
      return wxError(1400001, 'the phone number quota is exhausted')
    }
    const issued = await storage.get<PhoneCode>(`phone:${code}`)
    if (!issued || issued.used || now() - issued.issuedAt > PHONE_CODE_TTL) {
      return wxError(40029, 'invalid code')
    }
    // WeChat documents no errcode of its own for a code of another user: it is not a valid code for this one.
    if (openid !== undefined && openid !== issued.openid) {
      return wxError(40029, 'invalid code, openid not match')
    }
    const owner = await getUser(issued.openid)
    const failed =
      owner &&
      (await injectFault(owner, () => storage.put(`phone:${code}`, { ...issued, used: true })))
    if (failed) return failed
    await storage.put(`phone:${code}`, { ...issued, used: true })
    const pure = issued.phoneNumber.replace(/^\+86/, '')
    return wx({
      errcode: 0,
      errmsg: 'ok',
      phone_info: {
        phoneNumber: issued.phoneNumber,
        purePhoneNumber: pure,
        countryCode: '86',
        watermark: { timestamp: now(), appid: token.appid },
      },
    })
  })

  /** The user of a checksession-style call whose signature is right, or WeChat's refusal. */
  async function signedUser(q: Record<string, string>): Promise<EmulatedUser | Response> {
    const token = await rejectToken(q.access_token)
    if (token instanceof Response) return token
    const user = q.openid ? await getUser(q.openid) : undefined
    if (!user) return wxError(40003, 'invalid openid')
    if (
      q.sig_method !== 'hmac_sha256' ||
      q.signature !== (await expectedSignature(user.sessionKey))
    ) {
      return wxError(87009, 'invalid signature')
    }
    return user
  }

  // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/checkSessionKey.html
  app.get('/wxa/checksession', async (c) => {
    const user = await signedUser(c.req.query())
    return user instanceof Response ? user : wx({ errcode: 0, errmsg: 'ok' })
  })

  // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/ResetUserSessionKey.html
  app.get('/wxa/resetusersessionkey', async (c) => {
    const user = await signedUser(c.req.query())
    if (user instanceof Response) return user
    user.sessionKey = newSessionKey()
    await putUser(user)
    return wx({ errcode: 0, errmsg: 'ok', openid: user.openid, session_key: user.sessionKey })
  })
}
