import { randomUUID } from 'node:crypto'
import { describe, expect, expectTypeOf, inject, it } from 'vitest'
import {
  createClient,
  DEFAULT_STORAGE_KEY,
  type WxApi,
  WxaClientError,
  type WxaSession,
} from '../src'
import { emulatorCode, endSession, wxStandIn } from './wx-stand-in'

const baseUrl = inject('baseUrl')
const DEAD_URL = 'http://127.0.0.1:9' // discard port: nothing listens

interface Me {
  user: { id: string; openid: string }
  session: Record<string, unknown>
}

/** A mini program of its own: a fresh test user, an empty storage, the SDK. */
function miniProgram() {
  const openid = `sdk-${randomUUID()}`
  const wx = wxStandIn(baseUrl, openid)
  const api = createClient({ baseUrl, wx })
  const stored = () => wx.storage.get(DEFAULT_STORAGE_KEY) as WxaSession | undefined
  const trail = () => wx.sent.map(({ method, path, status }) => `${method} ${path} ${status}`)
  return { openid, wx, api, stored, trail }
}

/** Logged in, got a 401 on /me, logged in again: what comes next is the retry. */
const RELOGGED_IN = ['POST /auth/login 200', 'GET /me 401', 'POST /auth/login 200']

async function rejection(promise: Promise<unknown>): Promise<WxaClientError> {
  const error = await promise.then(
    () => expect.unreachable('resolved'),
    (error: unknown) => error,
  )
  expect(error).toBeInstanceOf(WxaClientError)
  return error as WxaClientError
}

describe('silent login', () => {
  it('logs in on first use, then sends the token with every request', async () => {
    const { openid, wx, api, stored, trail } = miniProgram()
    const res = await api.request<Me>({ url: '/me' })
    expect(res.statusCode).toBe(200)
    expect(res.data.user.openid).toBe(openid)
    expect(wx.logins).toBe(1)
    expect(trail()).toEqual(['POST /auth/login 200', 'GET /me 200'])

    const session = stored()
    expect(session?.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(Date.parse(session?.expiresAt ?? '')).toBeGreaterThan(Date.now())
    expect(session?.user).toEqual(res.data.user)
    expect(wx.sent[0]?.authorization).toBeNull()
    expect(wx.sent[1]?.authorization).toBe(`JWT ${session?.token}`)

    await api.request({ url: '/me' })
    expect(wx.logins).toBe(1)
  })

  it('keeps the token in storage: a restarted mini program does not log in again', async () => {
    const { wx, api } = miniProgram()
    await api.login()
    const restarted = createClient({ baseUrl, wx })
    expect((await restarted.request({ url: '/me' })).statusCode).toBe(200)
    expect(wx.logins).toBe(1)
  })

  it('treats a stored token past its expiresAt as absent and never sends it', async () => {
    const { wx, api, trail } = miniProgram()
    const old = await api.login()
    const later = createClient({ baseUrl, wx, now: () => Date.parse(old.expiresAt) + 1000 })
    expect(later.session()).toBeNull()
    await later.request({ url: '/me' })
    expect(wx.logins).toBe(2)
    expect(trail()).toEqual(['POST /auth/login 200', 'POST /auth/login 200', 'GET /me 200'])
    expect(wx.sent.some(({ authorization }) => authorization === `JWT ${old.token}`)).toBe(false)
  })

  it('ten concurrent requests on first use share one login', async () => {
    const { wx, api, trail } = miniProgram()
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => api.request<Me>({ url: '/me' })),
    )
    expect(answers.map((res) => res.statusCode)).toEqual(Array(10).fill(200))
    expect(wx.logins).toBe(1)
    expect(trail().filter((line) => line.startsWith('POST /auth/login'))).toHaveLength(1)
  })

  it('always sends its own Authorization header', async () => {
    const { api } = miniProgram()
    const res = await api.request({ url: '/me', header: { authorization: 'JWT forged' } })
    expect(res.statusCode).toBe(200)
  })
})

describe('401: one re-login, then a clear error', () => {
  it('a 401 logs in again once and the retried request succeeds', async () => {
    const { openid, wx, api, stored, trail } = miniProgram()
    const first = await api.login()
    await endSession(baseUrl, first.token)

    const res = await api.request<Me>({ url: '/me' })
    expect(res.statusCode).toBe(200)
    expect(res.data.user.openid).toBe(openid)
    expect(wx.logins).toBe(2)
    expect(trail()).toEqual([...RELOGGED_IN, 'GET /me 200'])
    expect(stored()?.token).not.toBe(first.token)
    expect(wx.sent.at(-1)?.authorization).toBe(`JWT ${stored()?.token}`)
  })

  it('ten concurrent requests that all get 401 share one re-login', async () => {
    const { wx, api, trail } = miniProgram()
    const first = await api.login()
    await endSession(baseUrl, first.token)

    const answers = await Promise.all(Array.from({ length: 10 }, () => api.request({ url: '/me' })))
    expect(answers.map((res) => res.statusCode)).toEqual(Array(10).fill(200))
    expect(wx.logins).toBe(2)
    expect(trail().filter((line) => line === 'GET /me 401')).toHaveLength(10)
    expect(trail().filter((line) => line.startsWith('POST /auth/login'))).toHaveLength(2)
  })

  it('a second 401 right after the re-login is LOGIN_REJECTED, with no third login', async () => {
    const { wx, api, stored, trail } = miniProgram()
    // Every session the server opens is ended on the server before the SDK
    // sees its token (as a revocation racing the login would): the 401s below
    // are the Worker's own.
    const request = wx.request.bind(wx)
    wx.request = (option) =>
      request({
        ...option,
        success: (result) => {
          const token = (result.data as { token?: string }).token
          if (!option.url.endsWith('/auth/login') || !token) return option.success?.(result)
          endSession(baseUrl, token).then(() => option.success?.(result))
        },
      })

    const error = await rejection(api.request({ url: '/me' }))
    expect(error.code).toBe('LOGIN_REJECTED')
    expect(error.status).toBe(401)
    expect(error.serverCode).toBe('SESSION_EXPIRED')
    expect(error.message).toMatch(/again right after a fresh login/)
    expect(wx.logins).toBe(2)
    expect(trail()).toEqual([...RELOGGED_IN, 'GET /me 401'])
    expect(stored()).toBeUndefined()
  })

  it('a failed re-login surfaces the server code and is not retried', async () => {
    const { openid, wx, api, trail } = miniProgram()
    // wx.login hands out the same code twice: the second exchange is WeChat's 40163.
    const code = await emulatorCode(baseUrl, openid)
    wx.login = ({ success }) => {
      wx.logins++
      success?.({ code })
    }
    const first = await api.login()
    await endSession(baseUrl, first.token)

    const error = await rejection(api.request({ url: '/me' }))
    expect(error.code).toBe('WECHAT_CODE_USED')
    expect(error.status).toBe(401)
    expect(wx.logins).toBe(2)
    expect(trail()).toEqual(['POST /auth/login 200', 'GET /me 401', 'POST /auth/login 401'])
  })
})

describe('errors', () => {
  it('a login the server refuses rejects with its code, and nothing else is sent', async () => {
    const { openid, wx, api, trail } = miniProgram()
    await fetch(`${baseUrl}/__emulator/users/${openid}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ blocked: true }),
    })
    const error = await rejection(api.request({ url: '/me' }))
    expect(error.code).toBe('WECHAT_USER_BLOCKED')
    expect(error.status).toBe(403)
    expect(wx.logins).toBe(1)
    expect(trail()).toEqual(['POST /auth/login 403'])
  })

  it('only a 401 triggers a re-login: other errors reject with the server code', async () => {
    const { wx, api, trail } = miniProgram()
    const error = await rejection(api.request({ url: '/no-such-route' }))
    expect(error.code).toBe('NOT_FOUND')
    expect(error.status).toBe(404)
    expect(wx.logins).toBe(1)
    expect(trail()).toEqual(['POST /auth/login 200', 'GET /no-such-route 404'])
  })

  it('an unreachable server is NETWORK_ERROR', async () => {
    const { wx } = miniProgram()
    const api = createClient({ baseUrl: DEAD_URL, wx })
    const error = await rejection(api.request({ url: '/me' }))
    expect(error.code).toBe('NETWORK_ERROR')
    expect(error.status).toBeUndefined()
  })

  it('a failing wx.login is WX_LOGIN_FAILED', async () => {
    const { wx, api, trail } = miniProgram()
    wx.login = ({ fail }) => fail?.({ errMsg: 'login:fail network' })
    const error = await rejection(api.request({ url: '/me' }))
    expect(error.code).toBe('WX_LOGIN_FAILED')
    expect(trail()).toEqual([])
  })

  it('needs a wx and a baseUrl when it is made', () => {
    expect(() => createClient({ baseUrl })).toThrow(TypeError)
    expect(() => createClient({ baseUrl: '', wx: wxStandIn(baseUrl, 'x') })).toThrow(TypeError)
  })
})

describe('logout', () => {
  it('ends the session on the server and forgets the token', async () => {
    const { wx, api, stored, trail } = miniProgram()
    const { token } = await api.login()
    await api.logout()
    expect(stored()).toBeUndefined()
    expect(api.session()).toBeNull()
    expect(trail()).toEqual(['POST /auth/login 200', 'POST /auth/logout 200'])
    const me = await fetch(`${baseUrl}/me`, { headers: { authorization: `JWT ${token}` } })
    expect(me.status).toBe(401)
    expect(await me.json()).toMatchObject({ error: { code: 'SESSION_EXPIRED' } })

    await api.request({ url: '/me' })
    expect(wx.logins).toBe(2)
  })

  it('waits for a login still running, then ends that session too', async () => {
    const { api, stored, trail } = miniProgram()
    const login = api.login()
    await api.logout()
    const { token } = await login
    expect(stored()).toBeUndefined()
    expect(trail()).toEqual(['POST /auth/login 200', 'POST /auth/logout 200'])
    const me = await fetch(`${baseUrl}/me`, { headers: { authorization: `JWT ${token}` } })
    expect(me.status).toBe(401)
  })

  it('forgets the token even when the server cannot be reached', async () => {
    const { wx, api, stored } = miniProgram()
    await api.login()
    await expect(createClient({ baseUrl: DEAD_URL, wx }).logout()).resolves.toBeUndefined()
    expect(stored()).toBeUndefined()
  })
})

describe('types', () => {
  it("the mini program's own wx fits the SDK", () => {
    expectTypeOf<WechatMiniprogram.Wx>().toExtend<WxApi>()
    expectTypeOf<WxaClientError['code']>().toExtend<string>()
  })
})
