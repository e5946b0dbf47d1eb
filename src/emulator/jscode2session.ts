import type { Context } from 'hono'
import {
  CODE_TTL,
  type EmulatorState,
  type IssuedCode,
  RATE_LIMIT,
  wx,
  wxError,
} from './wechat/state'

/**
 * `GET /sns/jscode2session` as WeChat answers it, and QQ, which copies it:
 * the same query, answer and errcodes, for the apps of `platform` and its
 * users. 40226 (a blocked user) is WeChat's alone.
 * https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
 */
export function jscode2sessionRoute(state: EmulatorState, platform: 'wechat' | 'qq') {
  const { storage, now, getUser, putUser, apps, secretOf, injectFault } = state
  return async function jscode2session(c: Context) {
    const q = c.req.query()
    if (!apps[platform].has(q.appid ?? '')) return wxError(40013, 'invalid appid')
    if (q.secret !== secretOf(q.appid ?? '')) return wxError(40125, 'invalid appsecret')
    if (q.grant_type !== 'authorization_code') return wxError(40002, 'invalid grant_type')
    if (!q.js_code) return wxError(41008, 'missing code')
    const issued = await storage.get<IssuedCode>(`code:${q.js_code}`)
    if (!issued || issued.appId !== q.appid) return wxError(40029, 'invalid code')
    const user = await getUser(issued.openid, platform)
    if (!user) return wxError(40029, 'invalid code')
    user.calls++
    const failed = await injectFault(user, () =>
      storage.put(`code:${q.js_code}`, { ...issued, used: true }),
    )
    if (failed) return failed
    const minute = Math.floor(now() / 60)
    if (user.window.minute !== minute) user.window = { minute, calls: 0 }
    user.window.calls++
    await putUser(user)
    if (user.window.calls > RATE_LIMIT) return wxError(45011, 'api minute-quota reach limit')
    if (issued.used) return wxError(40163, 'code been used')
    if (now() - issued.issuedAt > CODE_TTL) return wxError(40029, 'invalid code')
    if (platform === 'wechat' && user.blocked) {
      return wxError(40226, 'invalid scope, high risk user')
    }
    await storage.put(`code:${q.js_code}`, { ...issued, used: true })
    return wx({
      session_key: user.sessionKey,
      openid: user.openid,
      ...(user.unionid ? { unionid: user.unionid } : {}),
    })
  }
}
