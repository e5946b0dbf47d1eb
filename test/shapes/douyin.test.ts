// The production Worker against a Douyin written from its documentation
// (docs.ts): what the Worker sends, and what it makes of each answer.
import { randomBytes } from 'node:crypto'
import { beforeEach, describe, expect, it } from 'vitest'
import { DOUYIN_DOC, douyinRequestProblems } from './docs'
import { type Answer, againstServer, decryptTwice, freshOpenid, type Received } from './servers'

const APPID = 'tt07e3715e98c9aac0'
const SECRET = 'douyin-app-secret-from-the-console'

/** Douyin as documented. A code says what it does: `ok.<openid>`, `busy.<times>.<openid>`, `busy`. */
const douyin = {
  appid: APPID,
  secret: SECRET,
  /** Answer the next call with this HTTP status (a gateway losing the answer). */
  status: undefined as number | undefined,
  used: new Set<string>(),
  busy: new Map<string, number>(),
  keys: new Map<string, string>(),
  /** Requests that broke the documentation. */
  violations: [] as string[],
}

const logId = () => randomBytes(8).toString('hex').toUpperCase()
const refuse = (errNo: number, tips: string): Answer => ({
  body: { err_no: errNo, err_tips: tips, log_id: logId(), data: null },
})

function answer(req: Received): Answer {
  const problems = douyinRequestProblems(req)
  if (problems.length) {
    douyin.violations.push(...problems)
    return refuse(DOUYIN_DOC.errNo.badParams, problems.join('; '))
  }
  if (douyin.status)
    return { status: douyin.status, body: '<html>502 Bad Gateway</html>', contentType: 'text/html' }
  const { appid, secret, code, anonymous_code } = JSON.parse(req.text)
  if (appid !== douyin.appid) return refuse(DOUYIN_DOC.errNo.badAppid, 'bad appid')
  if (secret !== douyin.secret) return refuse(DOUYIN_DOC.errNo.badSecret, 'bad secret')
  const [kind, ...rest] = String(code).split('.')
  if (kind === 'busy') {
    const left = douyin.busy.get(code) ?? Number(rest[0] ?? Number.POSITIVE_INFINITY)
    if (!(left > 0)) return ok(code, rest.at(-1) as string, anonymous_code)
    douyin.busy.set(code, left - 1)
    return refuse(DOUYIN_DOC.errNo.busy, 'system error')
  }
  if (kind !== 'ok' || douyin.used.has(code)) return refuse(DOUYIN_DOC.errNo.badCode, 'bad code')
  return ok(code, rest.join('.'), anonymous_code)
}

function ok(code: string, openid: string, anonymous: string | undefined): Answer {
  if (anonymous !== undefined && anonymous !== `anon.${openid}`) {
    return refuse(DOUYIN_DOC.errNo.badAnonymousCode, 'bad anonymous_code')
  }
  douyin.used.add(code)
  const sessionKey = randomBytes(16).toString('base64')
  douyin.keys.set(openid, sessionKey)
  return {
    body: {
      err_no: 0,
      err_tips: 'success',
      log_id: logId(),
      data: {
        session_key: sessionKey,
        openid,
        anonymous_openid: anonymous ? `anonymous-${openid}` : '',
        unionid: openid.startsWith('union') ? `un-${openid}` : '',
      },
    },
  }
}

const live = againstServer(answer, 'DOUYIN', { appId: APPID, appSecret: SECRET })

beforeEach(() => {
  douyin.appid = APPID
  douyin.secret = SECRET
  douyin.status = undefined
  expect(douyin.violations).toEqual([])
})

const openid = freshOpenid
const sent = () => live.server.received.length
const login = (json: Record<string, unknown>) => live.worker.fetch('POST', '/auth/login', json)

describe('the Worker against a documentation-shaped Douyin', () => {
  it('sends one JSON POST with the documented fields, the secret in the body only', async () => {
    const id = openid()
    const res = await login({ code: `ok.${id}`, anonymousCode: `anon.${id}` })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.user).toEqual({
      id: expect.stringMatching(/^u_/),
      platform: 'douyin',
      openid: id,
    })
    const req = live.server.received.at(-1) as Received
    expect(req.method).toBe('POST')
    expect(req.path).toBe('/api/apps/v2/jscode2session')
    expect(req.contentType).toMatch(/^application\/json/)
    expect(req.queryNames).toEqual([])
    expect(JSON.parse(req.text)).toEqual({
      appid: APPID,
      secret: SECRET,
      code: `ok.${id}`,
      anonymous_code: `anon.${id}`,
    })
    const me = await live.worker.fetch('GET', '/me', undefined, res.body.token)
    expect(me.body.user).toEqual(res.body.user)
  })

  it('leaves anonymous_code out when the client sent none, and keeps a unionid when there is one', async () => {
    const id = openid('union')
    const res = await login({ code: `ok.${id}` })
    expect(res.status).toBe(200)
    expect(JSON.parse(live.server.received.at(-1)?.text ?? '{}')).toEqual({
      appid: APPID,
      secret: SECRET,
      code: `ok.${id}`,
    })
    expect(res.body.user.unionid).toBe(`un-${id}`)
    // An empty unionid is no unionid.
    const plain = await login({ code: `ok.${openid()}` })
    expect(plain.body.user).not.toHaveProperty('unionid')
  })

  it('answers 401 CODE_INVALID for a bad, spent or anonymous-mismatched code, asking once each', async () => {
    for (const body of [
      { code: 'nonsense' },
      { code: `ok.${openid()}`, anonymousCode: 'anon.someone-else' },
    ]) {
      const before = sent()
      const res = await login(body)
      expect(res.status).toBe(401)
      expect(res.body.error.code).toBe('CODE_INVALID')
      expect(sent() - before).toBe(1)
    }
    const id = openid()
    expect((await login({ code: `ok.${id}` })).status).toBe(200)
    const spent = await login({ code: `ok.${id}` })
    expect(spent.body.error.code).toBe('CODE_INVALID')
  })

  it('retries err_no -1 a bounded number of times, then answers 503', async () => {
    const id = openid()
    let before = sent()
    expect((await login({ code: `busy.1.${id}` })).status).toBe(200)
    expect(sent() - before).toBe(2)
    before = sent()
    const res = await login({ code: 'busy' })
    expect(res.status).toBe(503)
    expect(res.body.error.code).toBe('UPSTREAM_UNAVAILABLE')
    expect(sent() - before).toBe(3)
  })

  it('never retries a lost answer (HTTP 502): the code may be spent', async () => {
    douyin.status = 502
    const before = sent()
    const res = await login({ code: `ok.${openid()}` })
    expect(res.status).toBe(503)
    expect(sent() - before).toBe(1)
  })

  it('reads a wrong AppSecret (40017) or AppID (40015) as 500 APP_CREDENTIALS_INVALID', async () => {
    for (const wrong of ['secret', 'appid'] as const) {
      douyin.appid = APPID
      douyin.secret = SECRET
      douyin[wrong] = 'something-else'
      const res = await login({ code: `ok.${openid()}` })
      expect(res.status).toBe(500)
      expect(res.body.error.code).toBe('APP_CREDENTIALS_INVALID')
      expect(JSON.stringify(res.body)).not.toContain(SECRET)
    }
  })

  it("decrypts data sealed with the session_key Douyin gave, checking the watermark's appid", async () => {
    const id = openid()
    const { body } = await login({ code: `ok.${id}` })
    const key = douyin.keys.get(id) as string
    const profile = { nickName: '抖音用户', gender: 0 }
    const ids: [string, string] = [APPID, 'tt00000000000000']
    const [res, other] = await decryptTwice(live.worker, body.token, key, profile, ids)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body).toEqual({ data: profile })
    expect(other.status).toBe(400)
    expect(other.body.error.code).toBe('DECRYPT_FAILED')
    const phone = await live.worker.fetch('POST', '/auth/phone', { code: 'phone-code' }, body.token)
    expect(phone.status).toBe(400)
    expect(phone.body.error.code).toBe('NOT_OFFERED')
  })

  it('sent nothing the documentation does not describe', () => {
    expect(douyin.violations).toEqual([])
    expect(live.server.received.length).toBeGreaterThan(10)
  })
})
