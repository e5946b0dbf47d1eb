// The Cloud Hosting mode in one process, in memory (no Redis): what decides
// the client address, and what a header login cannot do. The three-process
// suite runs the mode as deployed (the project redis-cloud-hosting).
import { randomBytes } from 'node:crypto'
import * as v from 'valibot'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { createWeChatClient } from '../../src/platforms/wechat/client'
import { LoginResponse } from '../../src/routes/schemas'
import { node } from '../../src/runtime/node/runtime'
import { clearOfWindowEdge } from './stack'

const APP_ID = 'wx0000000000cloud1'
const quiet = { warn() {}, error() {} }

function cloudApp(vars: Record<string, string | undefined> = {}) {
  const env = {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    STORAGE_SECRET: randomBytes(32).toString('base64url'),
    WECHAT_APP_ID: APP_ID,
    WECHAT_APP_SECRET: randomBytes(16).toString('hex'),
    CLOUD_HOSTING: 'wechat',
    CBR_ENV_ID: 'prod-test',
    ...vars,
  }
  const app = createApp({ runtime: node({ env, log: quiet }), log: quiet })
  return (headers: Record<string, string>, json: object = {}) =>
    app.request('/auth/login', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'X-WX-SOURCE': 'wx_client',
        'X-WX-OPENID': `o-${randomBytes(6).toString('hex')}`,
        'X-WX-APPID': APP_ID,
        ...headers,
      },
      body: JSON.stringify(json),
    })
}

describe('the client address in the Cloud Hosting mode', () => {
  // A limit of 1 a minute: the two logins of a test must fall in one window.
  beforeEach(() => clearOfWindowEdge(2_000))
  it("is the gateway's X-Original-Forwarded-For: one address, one count", async () => {
    const login = cloudApp({ LOGIN_RATE_LIMIT: '1' })
    const proxy = { 'X-Forwarded-For': '10.0.0.1' }
    const statuses = [
      (await login({ ...proxy, 'X-Original-Forwarded-For': '198.51.100.1' })).status,
      (await login({ ...proxy, 'X-Original-Forwarded-For': '198.51.100.2' })).status,
      (await login({ ...proxy, 'X-Original-Forwarded-For': '198.51.100.2' })).status,
    ]
    expect(statuses).toEqual([200, 200, 429])
  })

  it('takes the last entry: one a client wrote ahead of the gateway does not count', async () => {
    const login = cloudApp({ LOGIN_RATE_LIMIT: '1' })
    const first = await login({ 'X-Original-Forwarded-For': '192.0.2.1, 198.51.100.7' })
    const again = await login({ 'X-Original-Forwarded-For': '192.0.2.2, 198.51.100.7' })
    expect([first.status, again.status]).toEqual([200, 429])
  })

  it('believes no entry that is not an IP address: made-up ones share one count', async () => {
    const login = cloudApp({ LOGIN_RATE_LIMIT: '1' })
    const first = await login({ 'X-Original-Forwarded-For': 'made-up-1' })
    const again = await login({ 'X-Original-Forwarded-For': 'made-up-2' })
    expect([first.status, again.status]).toEqual([200, 429])
  })

  it('is never X-Original-Forwarded-For without the mode', async () => {
    const login = cloudApp({ LOGIN_RATE_LIMIT: '1', CLOUD_HOSTING: undefined })
    const first = await login({ 'X-Original-Forwarded-For': '198.51.100.1' })
    const second = await login({ 'X-Original-Forwarded-For': '198.51.100.2' })
    // No code: 400; then the one shared bucket is full.
    expect([first.status, second.status]).toEqual([400, 429])
  })

  it('is TRUST_PROXY’s X-Forwarded-For when that is set', async () => {
    const login = cloudApp({ LOGIN_RATE_LIMIT: '1', TRUST_PROXY: '1' })
    const proxy = { 'X-Forwarded-For': '10.0.0.1' }
    const first = await login({ ...proxy, 'X-Original-Forwarded-For': '198.51.100.1' })
    const second = await login({ ...proxy, 'X-Original-Forwarded-For': '198.51.100.2' })
    expect([first.status, second.status]).toEqual([200, 429])
  })
})

describe('a header login', () => {
  it('with user info needs a code: 409 LOGIN_CODE_REQUIRED', async () => {
    const login = cloudApp()
    const res = await login({}, { encryptedData: 'AAAA', iv: 'AAAAAAAAAAAAAAAAAAAAAA==' })
    expect(res.status).toBe(409)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'LOGIN_CODE_REQUIRED',
    )
  })

  it("answers a login's shape (the OpenAPI schema of POST /auth/login)", async () => {
    const login = cloudApp()
    const res = await login({ 'X-WX-OPENID': 'o-shape', 'X-WX-UNIONID': 'u-shape' })
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(v.safeParse(LoginResponse, body).issues).toBeUndefined()
    expect(body).toMatchObject({
      user: { platform: 'wechat', openid: 'o-shape', unionid: 'u-shape' },
    })
  })
})

describe('without an AppSecret, through the open interface service', () => {
  const codeOf = async (res: Response) =>
    ((await res.json()) as { error?: { code: string } }).error?.code

  it('logs in from the headers, and takes no code: 400 NOT_OFFERED', async () => {
    const login = cloudApp({ WECHAT_OPEN_API: 'cloud-hosting', WECHAT_APP_SECRET: undefined })
    expect((await login({})).status).toBe(200)
    const coded = await login({}, { code: 'a-login-code' })
    expect([coded.status, await codeOf(coded)]).toEqual([400, 'NOT_OFFERED'])
  })

  it('is required otherwise: CONFIG_INVALID', async () => {
    const login = cloudApp({ WECHAT_APP_SECRET: undefined })
    const res = await login({})
    expect([res.status, await codeOf(res)]).toEqual([500, 'CONFIG_INVALID'])
  })
})

describe('createWeChatClient({ openApiBase })', () => {
  it('sends the token-taking calls there with no token and from_appid, and has no code2Session without a secret', async () => {
    const urls: string[] = []
    const client = createWeChatClient({
      appId: APP_ID,
      appSecret: '',
      openApiBase: 'http://api.weixin.qq.com',
      fetch: async (input) => {
        urls.push(String(input))
        return Response.json({ errcode: 0, errmsg: 'ok', result: { suggest: 'pass' } })
      },
    })
    expect(await client.checkText('', 'a nickname', 'o-1')).toBe('pass')
    expect(await client.checkSessionKey('', 'o-1', 'a2V5a2V5a2V5a2V5a2V5aw==')).toBe(true)
    const error = await client.code2Session('a-code').catch((err: unknown) => err)
    expect((error as { code?: string }).code).toBe('NOT_OFFERED')
    expect(urls.map((url) => new URL(url).origin)).toEqual([
      'http://api.weixin.qq.com',
      'http://api.weixin.qq.com',
    ])
    for (const url of urls) {
      expect(new URL(url).searchParams.has('access_token')).toBe(false)
      expect(new URL(url).searchParams.get('from_appid')).toBe(APP_ID)
    }
  })
})
