import type { Hono } from 'hono'
import { CODE_TTL, type EmulatorState, type IssuedCode, rid } from '../wechat/state'

/** Douyin answers with JSON labelled as such, `err_no` 0 on success. */
export const douyinAnswer = (data: object) =>
  Response.json({ err_no: 0, err_tips: 'success', log_id: `emu${rid()}`, data })
export const douyinError = (errNo: number, tips: string) =>
  Response.json({ err_no: errNo, err_tips: tips, log_id: `emu${rid()}`, data: null })

/**
 * Douyin's face: `POST /api/apps/v2/jscode2session` with its JSON body and
 * its `err_no` codes. A code and an anonymous code are single-use; the
 * anonymous one stands for the user's anonymous openid. A spent or expired
 * code is 40018, as Douyin documents no separate "used".
 * https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/log-in/code-2-session
 */
export function douyinApi(app: Hono, state: EmulatorState) {
  const { storage, now, getUser, putUser, apps, secretOf, injectFault, body } = state

  /** The code issued under `key` for `appid`, when it still works. */
  async function live(key: string, appid: string): Promise<IssuedCode | undefined> {
    const issued = await storage.get<IssuedCode>(key)
    if (!issued || issued.appId !== appid || issued.used) return undefined
    return now() - issued.issuedAt > CODE_TTL ? undefined : issued
  }

  app.post('/api/apps/v2/jscode2session', async (c) => {
    if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
      return douyinError(40014, 'bad params: content-type must be application/json')
    }
    const { appid, secret, code, anonymous_code } = await body(c.req.raw)
    if (typeof appid !== 'string' || !apps.douyin.has(appid)) return douyinError(40015, 'bad appid')
    if (secret !== secretOf(appid)) return douyinError(40017, 'bad secret')
    const hasCode = typeof code === 'string' && code !== ''
    const hasAnonymous = typeof anonymous_code === 'string' && anonymous_code !== ''
    if (!hasCode && !hasAnonymous) return douyinError(40014, 'bad params: code or anonymous_code')
    const anonymous = hasAnonymous ? await live(`acode:${anonymous_code}`, appid) : undefined
    if (hasAnonymous && !anonymous) return douyinError(40019, 'bad anonymous_code')
    if (!hasCode) {
      const guest = anonymous && (await getUser(anonymous.openid, 'douyin'))
      await storage.put(`acode:${anonymous_code}`, { ...anonymous, used: true })
      return douyinAnswer({
        session_key: '',
        openid: '',
        anonymous_openid: guest?.anonymousOpenid ?? '',
        unionid: '',
      })
    }
    const issued = await storage.get<IssuedCode>(`code:${code}`)
    const user = issued?.appId === appid ? await getUser(issued.openid, 'douyin') : undefined
    if (!issued || !user) return douyinError(40018, 'bad code')
    user.calls++
    const spend = async () => {
      await storage.put(`code:${code}`, { ...issued, used: true })
      if (anonymous) await storage.put(`acode:${anonymous_code}`, { ...anonymous, used: true })
    }
    const failed = await injectFault(user, spend, () => douyinError(-1, 'system error'))
    if (failed) return failed
    await putUser(user)
    if (!(await live(`code:${code}`, appid))) return douyinError(40018, 'bad code')
    await spend()
    return douyinAnswer({
      session_key: user.sessionKey,
      openid: user.openid,
      anonymous_openid: anonymous ? (user.anonymousOpenid ?? '') : '',
      unionid: user.unionid ?? '',
    })
  })
}
