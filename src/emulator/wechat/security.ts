import type { Hono } from 'hono'
import { type BuiltPush, buildPush, type PushFormat, type PushMode } from '../push'
import { type EmulatorState, OPENID, PUSH_FROM, PUSH_TO, rid, wx, wxError } from './state'

/** An image check WeChat has accepted and not answered yet. */
interface PendingCheck {
  trace: string
  appid: string
  openid: string
  mediaUrl: string
}

const RISKY = 'risky' // the word that makes the emulator call text or an image risky
const REVIEW = 'review' // and the one that makes it want a review
const verdictOf = (text: string) =>
  text.includes(RISKY) ? 'risky' : text.includes(REVIEW) ? 'review' : 'pass'
// WeChat's labels: 100 normal, 20001 political, 20002 porn, 20006 illegal, 21000 other.
const LABEL = { pass: 100, review: 21000, risky: 20002 } as const

/**
 * WeChat's content security: the text check (`msg_sec_check`) answers at
 * once; the image check (`media_check_async`) answers later by push, as
 * WeChat's does. Text, or an image's bytes, containing `risky` are risky;
 * containing `review`, to be reviewed; anything else passes.
 */
export function securityApi(app: Hono, state: EmulatorState) {
  const { storage, env, now, body, rejectToken } = state

  // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/sec-center/sec-check/msgSecCheck.html
  app.post('/wxa/msg_sec_check', async (c) => {
    const token = await rejectToken(c.req.query('access_token'))
    if (token instanceof Response) return token
    const { content, version, scene, openid } = await body(c.req.raw)
    if (version !== 2) return wxError(40003, 'invalid version')
    if (typeof scene !== 'number' || scene < 1 || scene > 4) return wxError(40003, 'invalid scene')
    if (typeof openid !== 'string' || !OPENID.test(openid)) return wxError(40003, 'invalid openid')
    if (typeof content !== 'string' || content === '') return wxError(41008, 'missing content')
    const suggest = verdictOf(content)
    return wx({
      errcode: 0,
      errmsg: 'ok',
      result: { suggest, label: LABEL[suggest] },
      detail: [{ strategy: 'content_model', errcode: 0, suggest, label: LABEL[suggest] }],
      trace_id: `emu_${rid()}`,
    })
  })

  // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/sec-center/sec-check/mediaCheckAsync.html
  app.post('/wxa/media_check_async', async (c) => {
    const token = await rejectToken(c.req.query('access_token'))
    if (token instanceof Response) return token
    const { media_url, media_type, version, scene, openid } = await body(c.req.raw)
    if (version !== 2) return wxError(40003, 'invalid version')
    if (media_type !== 2) return wxError(40003, 'invalid media_type')
    if (typeof scene !== 'number' || scene < 1 || scene > 4) return wxError(40003, 'invalid scene')
    if (typeof openid !== 'string' || !OPENID.test(openid)) return wxError(40003, 'invalid openid')
    if (typeof media_url !== 'string' || !/^https?:\/\//.test(media_url)) {
      return wxError(40003, 'invalid media_url')
    }
    const trace = `emu_${rid()}${rid()}`
    const pending = (await storage.get<string[]>('mediaChecks')) ?? []
    await storage.put(`mediaCheck:${trace}`, {
      trace,
      appid: token.appid,
      openid,
      mediaUrl: media_url,
    } satisfies PendingCheck)
    await storage.put('mediaChecks', [...pending, trace])
    return wx({ errcode: 0, errmsg: 'ok', trace_id: trace })
  })

  // The checks WeChat owes an answer, for whoever fetches the images (the dev Worker).
  app.get('/__emulator/media-checks', async (c) => {
    const traces = (await storage.get<string[]>('mediaChecks')) ?? []
    const checks = await Promise.all(
      traces.map((t) => storage.get<PendingCheck>(`mediaCheck:${t}`)),
    )
    return c.json({ checks: checks.filter(Boolean) })
  })

  // The verdict on one check, given the image's bytes (base64): the push WeChat would send.
  app.post('/__emulator/media-checks/:trace', async (c) => {
    const trace = c.req.param('trace')
    const check = await storage.get<PendingCheck>(`mediaCheck:${trace}`)
    if (!check) return c.json({ error: 'no such pending check' }, 404)
    const { bytes, format = 'json', mode } = await body(c.req.raw)
    if (typeof bytes !== 'string') return c.json({ error: 'bytes: the image, base64' }, 400)
    const image = atob(bytes)
    const suggest = verdictOf(image)
    await storage.delete(`mediaCheck:${trace}`)
    const pending = (await storage.get<string[]>('mediaChecks')) ?? []
    await storage.put(
      'mediaChecks',
      pending.filter((t) => t !== trace),
    )
    const token = env.WECHAT_EVENT_TOKEN
    if (!token) return c.json({ error: 'WECHAT_EVENT_TOKEN is not set' }, 409)
    const push: BuiltPush = await buildPush(
      { token, ...(env.WECHAT_EVENT_AES_KEY ? { aesKey: env.WECHAT_EVENT_AES_KEY } : {}) },
      {
        fields: {
          ToUserName: PUSH_TO,
          FromUserName: PUSH_FROM,
          CreateTime: now(),
          MsgType: 'event',
          Event: 'wxa_media_check',
          appid: check.appid,
          trace_id: trace,
          version: 2,
          errcode: 0,
          errmsg: 'ok',
          result: { suggest, label: LABEL[suggest] },
        },
        appId: check.appid,
        format: format as PushFormat,
        mode: (mode ?? (env.WECHAT_EVENT_AES_KEY ? 'safe' : 'plain')) as PushMode,
        timestamp: now(),
      },
    )
    return c.json({ suggest, push })
  })
}
