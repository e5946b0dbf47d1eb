// The production Worker against a QQ written from its documentation
// (docs.ts): WeChat's code2Session shape and errcodes on QQ's host.
import { randomBytes } from 'node:crypto'
import { beforeEach, describe, expect, it } from 'vitest'
import { QQ_DOC, qqRequestProblems } from './docs'
import {
  type Answer,
  againstServer,
  decryptTwice,
  freshOpenid,
  type Received,
  seal,
} from './servers'

const APPID = '1112345678'
const SECRET = 'qq-app-secret-from-the-console'

/**
 * QQ as documented. A code says what it does: `ok.<openid>`, `busy.<times>.<openid>`,
 * `busy`, `limited`; a code is spent once answered (40163 after).
 */
const qq = {
  appid: APPID,
  secret: SECRET,
  /** How the answers are labelled: WeChat labels its JSON text/plain. */
  contentType: 'application/json',
  used: new Set<string>(),
  busy: new Map<string, number>(),
  keys: new Map<string, string>(),
  violations: [] as string[],
}

const refuse = (errcode: number, errmsg: string): Answer => ({
  body: { errcode, errmsg: `${errmsg} rid: ${randomBytes(4).toString('hex')}` },
  contentType: qq.contentType,
})

function answer(req: Received): Answer {
  const problems = qqRequestProblems(req)
  if (problems.length) {
    qq.violations.push(...problems)
    return refuse(40002, problems.join('; '))
  }
  const { appid, secret, js_code: code = '' } = req.query
  if (appid !== qq.appid) return refuse(QQ_DOC.errcode.badAppid, 'invalid appid')
  if (secret !== qq.secret) return refuse(40125, 'invalid appsecret')
  const [kind, ...rest] = code.split('.')
  if (kind === 'limited') return refuse(QQ_DOC.errcode.rateLimited, 'api minute-quota reach limit')
  if (kind === 'busy') {
    const left = qq.busy.get(code) ?? Number(rest[0] ?? Number.POSITIVE_INFINITY)
    if (left > 0) {
      qq.busy.set(code, left - 1)
      return refuse(QQ_DOC.errcode.busy, 'system error')
    }
  } else if (kind !== 'ok') return refuse(QQ_DOC.errcode.badCode, 'invalid code')
  if (qq.used.has(code)) return refuse(QQ_DOC.errcode.codeUsed, 'code been used')
  qq.used.add(code)
  const openid = rest.at(-1) as string
  const sessionKey = randomBytes(16).toString('base64')
  qq.keys.set(openid, sessionKey)
  return {
    body: {
      openid,
      session_key: sessionKey,
      ...(openid.startsWith('union') ? { unionid: `un-${openid}` } : {}),
    },
    contentType: qq.contentType,
  }
}

const live = againstServer(answer, 'QQ', { appId: APPID, appSecret: SECRET })

beforeEach(() => {
  qq.appid = APPID
  qq.secret = SECRET
  qq.contentType = 'application/json'
  expect(qq.violations).toEqual([])
})

const openid = freshOpenid
const sent = () => live.server.received.length
const login = (code: string) => live.worker.fetch('POST', '/auth/login', { code })
const codeOf = (res: { body: any }) => res.body?.error?.code

describe('the Worker against a documentation-shaped QQ', () => {
  it('sends a GET with exactly appid, secret, js_code and grant_type', async () => {
    const id = openid()
    const res = await login(`ok.${id}`)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.user).toEqual({ id: expect.stringMatching(/^u_/), platform: 'qq', openid: id })
    const req = live.server.received.at(-1) as Received
    expect(req.method).toBe('GET')
    expect(req.path).toBe('/sns/jscode2session')
    expect(req.query).toEqual({
      appid: APPID,
      secret: SECRET,
      js_code: `ok.${id}`,
      grant_type: 'authorization_code',
    })
    expect(req.text).toBe('')
  })

  it('reads the answer whatever its label (WeChat says text/plain), and keeps a unionid', async () => {
    qq.contentType = 'text/plain'
    const id = openid('union')
    const res = await login(`ok.${id}`)
    expect(res.status).toBe(200)
    expect(res.body.user.unionid).toBe(`un-${id}`)
  })

  it('maps each documented errcode, asking once for each answer that says no', async () => {
    const id = openid()
    expect((await login(`ok.${id}`)).status).toBe(200)
    const cases: [string, number, string][] = [
      ['nonsense', 401, 'CODE_INVALID'],
      [`ok.${id}`, 401, 'CODE_USED'],
      ['limited', 429, 'UPSTREAM_RATE_LIMITED'],
    ]
    for (const [code, status, error] of cases) {
      const before = sent()
      const res = await login(code)
      expect([res.status, codeOf(res)]).toEqual([status, error])
      expect(sent() - before).toBe(1)
    }
  })

  it('retries errcode -1 a bounded number of times, then answers 503', async () => {
    let before = sent()
    expect((await login(`busy.2.${openid()}`)).status).toBe(200)
    expect(sent() - before).toBe(3)
    before = sent()
    const res = await login('busy')
    expect([res.status, codeOf(res)]).toEqual([503, 'UPSTREAM_UNAVAILABLE'])
    expect(sent() - before).toBe(3)
  })

  it('reads a wrong AppID (40013) or AppSecret as 500 APP_CREDENTIALS_INVALID', async () => {
    qq.appid = '1999999999'
    const res = await login(`ok.${openid()}`)
    expect([res.status, codeOf(res)]).toEqual([500, 'APP_CREDENTIALS_INVALID'])
    qq.appid = APPID
    qq.secret = 'another'
    const secret = await login(`ok.${openid()}`)
    expect([secret.status, codeOf(secret)]).toEqual([500, 'APP_CREDENTIALS_INVALID'])
    expect(JSON.stringify(secret.body)).not.toContain(SECRET)
  })

  it('decrypts data sealed with the session_key QQ gave, checking the watermark', async () => {
    const id = openid()
    const { body } = await login(`ok.${id}`)
    const key = qq.keys.get(id) as string
    const profile = { nickName: 'QQ 用户' }
    const ids: [string, string] = [APPID, '1000000000']
    const [res, other] = await decryptTwice(live.worker, body.token, key, profile, ids)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body).toEqual({ data: profile })
    expect(codeOf(other)).toBe('DECRYPT_FAILED')
    const sealed = await seal(key, profile, APPID)
    const signed = await live.worker.fetch('POST', '/auth/login', {
      code: `ok.${openid()}`,
      rawData: sealed.rawData,
      signature: sealed.signature,
    })
    // Signed with another user's session_key: refused.
    expect(codeOf(signed)).toBe('SIGNATURE_INVALID')
  })

  it('sent nothing the documentation does not describe', () => {
    expect(qq.violations).toEqual([])
    expect(live.server.received.length).toBeGreaterThan(8)
  })
})
