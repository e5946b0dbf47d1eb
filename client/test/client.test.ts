import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  type CallbackApi,
  createClient,
  DEFAULT_LOGIN_COOLDOWN,
  type TaroApi,
  type WxaClientError,
  type WxaClientErrorCode,
} from '../src'
import { type Device, device, emulator, emulatorCode, endSession, type HttpAnswer } from './device'
import { baseUrl, DEAD_URL, type Me, miniProgram, rejection } from './helpers'
import { wxStandIn } from './stand-ins'

const SECOND = 1000 // ms
const COOLED = DEFAULT_LOGIN_COOLDOWN + SECOND // ms: past the login cooldown

/**
 * A proxy in front of the Worker that answers the first `times` logouts
 * itself, with `answer` or (an Error) no answer at all; the rest pass.
 * Returns how many it answered.
 */
function failLogouts(phone: Device, times: number, answer: HttpAnswer | Error) {
  const request = phone.request
  let failed = 0
  phone.request = (url, ...rest) => {
    if (!url.endsWith('/auth/logout') || failed >= times) return request(url, ...rest)
    failed++
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)
  }
  return () => failed
}

/** A 503 as the Worker answers it, with `code` and, if given, `Retry-After`. */
const unavailable = (code: string, retryAfter?: string): HttpAnswer => ({
  statusCode: 503,
  data: { error: { code, message: 'try again later' } },
  header: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
})

/** Whether the server still takes `token`. */
const alive = async (token: string) =>
  (await fetch(`${baseUrl}/me`, { headers: { authorization: `JWT ${token}` } })).status === 200

describe('silent login', () => {
  it('logs in on first use, then sends the token with every request', async () => {
    const { openid, phone, api, stored, trail } = miniProgram()
    const res = await api.request<Me>({ url: '/me' })
    expect(res.statusCode).toBe(200)
    expect(res.data.user.openid).toBe(openid)
    expect(phone.state.logins).toBe(1)
    expect(trail()).toEqual(['POST /auth/login 200', 'GET /me 200'])

    const session = stored()
    expect(session?.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(session?.expiresIn).toBe(2 * 60 * 60)
    expect(session?.refreshToken).toMatch(/^[\w-]{100,400}$/)
    expect(session?.user).toEqual(res.data.user)
    expect(phone.state.sent[0]?.authorization).toBeNull()
    expect(phone.state.sent[1]?.authorization).toBe(`JWT ${session?.token}`)

    await api.request({ url: '/me' })
    expect(phone.state.logins).toBe(1)
  })

  it('keeps the token in storage: a restarted mini program does not log in again', async () => {
    const { phone, api, again } = miniProgram()
    await api.login()
    expect((await again().request({ url: '/me' })).statusCode).toBe(200)
    expect(phone.state.logins).toBe(1)
  })

  it('ten concurrent requests on first use share one login', async () => {
    const { phone, api, calls } = miniProgram()
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => api.request<Me>({ url: '/me' })),
    )
    expect(answers.map((res) => res.statusCode)).toEqual(Array(10).fill(200))
    expect(phone.state.logins).toBe(1)
    expect(calls('/auth/login')).toBe(1)
  })

  it('always sends its own Authorization header', async () => {
    const { api, phone, stored } = miniProgram()
    const res = await api.request({ url: '/me', header: { authorization: 'JWT forged' } })
    expect(res.statusCode).toBe(200)
    expect(phone.state.sent.at(-1)?.authorization).toBe(`JWT ${stored()?.token}`)
  })

  it('sends the AppID with the login when one is set', async () => {
    const { api, phone } = miniProgram({ appId: 'wx0000000000second' })
    const { data } = await api.request<Me>({ url: '/me' })
    expect(data.user.openid).toBe(phone.state.openid)
    // The code is the second app's, so the login worked only with its AppID;
    // the same openid in the first app is another user.
    const res = await fetch(`${baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: await emulatorCode(baseUrl, phone.state.openid) }),
    })
    const { user } = (await res.json()) as Me
    expect(user.openid).toBe(phone.state.openid)
    expect(user.id).not.toBe(data.user.id)
  })
})

describe('401: one refresh or login, then a clear error', () => {
  it('a 401 to an older token: refresh cannot help, one login does, and the retry succeeds', async () => {
    const { openid, phone, api, clock, stored, trail } = miniProgram()
    const first = await api.login()
    await endSession(baseUrl, first.token)
    clock.advance(COOLED)

    const res = await api.request<Me>({ url: '/me' })
    expect(res.statusCode).toBe(200)
    expect(res.data.user.openid).toBe(openid)
    expect(phone.state.logins).toBe(2)
    expect(trail()).toEqual([
      'POST /auth/login 200',
      'GET /me 401',
      'POST /auth/refresh 401',
      'POST /auth/login 200',
      'GET /me 200',
    ])
    expect(stored()?.token).not.toBe(first.token)
    expect(phone.state.sent.at(-1)?.authorization).toBe(`JWT ${stored()?.token}`)
  })

  it('ten concurrent requests that all get 401 share one refresh and one login', async () => {
    const { phone, api, clock, trail, calls } = miniProgram()
    const first = await api.login()
    await endSession(baseUrl, first.token)
    clock.advance(COOLED)

    const answers = await Promise.all(Array.from({ length: 10 }, () => api.request({ url: '/me' })))
    expect(answers.map((res) => res.statusCode)).toEqual(Array(10).fill(200))
    expect(phone.state.logins).toBe(2)
    expect(trail().filter((line) => line === 'GET /me 401')).toHaveLength(10)
    expect(calls('/auth/refresh')).toBe(1)
    expect(calls('/auth/login')).toBe(2)
  })

  it('a 401 again after the login is LOGIN_REJECTED; the fresh token is kept', async () => {
    const { phone, wx, api, clock, stored, trail } = miniProgram()
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
    await api.login()
    clock.advance(COOLED)

    const error = await rejection(api.request({ url: '/me' }))
    expect(error.code).toBe('LOGIN_REJECTED')
    expect(error.status).toBe(401)
    expect(error.serverCode).toBe('SESSION_EXPIRED')
    expect(phone.state.logins).toBe(2)
    expect(trail()).toEqual([
      'POST /auth/login 200',
      'GET /me 401',
      'POST /auth/refresh 401',
      'POST /auth/login 200',
      'GET /me 401',
    ])
    const kept = stored()?.token
    expect(kept).toBe(phone.state.sent.at(-1)?.authorization?.slice(4))

    // The next request uses that token, and logs in no more within the cooldown.
    const again = await rejection(api.request({ url: '/me' }))
    expect(again.code).toBe('LOGIN_REJECTED')
    expect(phone.state.logins).toBe(2)
    expect(trail().at(-1)).toBe('GET /me 401')
    expect(phone.state.sent.at(-1)?.authorization).toBe(`JWT ${kept}`)
  })

  it('a failed re-login surfaces the server code and is not retried', async () => {
    const { openid, phone, api, clock, trail } = miniProgram()
    // The runtime hands out the same code twice: the second exchange is WeChat's 40163.
    const code = await emulatorCode(baseUrl, openid)
    phone.login = async () => {
      phone.state.logins++
      return code
    }
    const first = await api.login()
    await endSession(baseUrl, first.token)
    clock.advance(COOLED)

    const error = await rejection(api.request({ url: '/me' }))
    expect(error.code).toBe('CODE_USED')
    expect(error.status).toBe(401)
    expect(phone.state.logins).toBe(2)
    expect(trail()).toEqual([
      'POST /auth/login 200',
      'GET /me 401',
      'POST /auth/refresh 401',
      'POST /auth/login 401',
    ])
  })
})

describe('errors', () => {
  it('a login the server refuses rejects with its code, and nothing else is sent', async () => {
    const { openid, phone, api, trail } = miniProgram()
    await emulator(baseUrl, `users/${openid}`, { blocked: true })
    const error = await rejection(api.request({ url: '/me' }))
    expect(error.code).toBe('USER_BLOCKED')
    expect(error.status).toBe(403)
    expect(phone.state.logins).toBe(1)
    expect(trail()).toEqual(['POST /auth/login 403'])
  })

  it('only a 401 triggers a refresh or login: other errors reject with the server code', async () => {
    const { phone, api, trail } = miniProgram()
    const error = await rejection(api.request({ url: '/no-such-route' }))
    expect(error.code).toBe('NOT_FOUND')
    expect(error.status).toBe(404)
    expect(phone.state.logins).toBe(1)
    expect(trail()).toEqual(['POST /auth/login 200', 'GET /no-such-route 404'])
  })

  it('an unreachable server is NETWORK_ERROR, with the runtime errMsg', async () => {
    const wx = wxStandIn(device(baseUrl))
    const api = createClient({ baseUrl: DEAD_URL, wx })
    const error = await rejection(api.request({ url: '/me' }))
    expect(error.code).toBe('NETWORK_ERROR')
    expect(error.message).toMatch(/request:fail/)
    expect(error.status).toBeUndefined()
  })

  it('a failing wx.login is WX_LOGIN_FAILED', async () => {
    const { wx, api, trail } = miniProgram()
    wx.login = ({ fail }) => fail?.({ errMsg: 'login:fail network' })
    const error = await rejection(api.request({ url: '/me' }))
    expect(error.code).toBe('WX_LOGIN_FAILED')
    expect(error.message).toMatch(/login:fail network/)
    expect(trail()).toEqual([])
  })

  it('needs a runtime and an http(s) baseUrl when it is made', () => {
    const wx = wxStandIn(device(baseUrl))
    expect(() => createClient({ baseUrl })).toThrow(TypeError)
    expect(() => createClient({ baseUrl: '', wx })).toThrow(TypeError)
    for (const bad of ['ftp://x.example', 'https://u@x.example', 'https://x.example?q', '//x']) {
      expect(() => createClient({ baseUrl: bad, wx }), bad).toThrow(TypeError)
    }
    expect(() => createClient({ baseUrl: 'https://x.example/api/', wx })).not.toThrow()
  })
})

describe('logout', () => {
  it('ends the session on the server and forgets the token', async () => {
    const { phone, api, clock, stored, trail } = miniProgram()
    const { token } = await api.login()
    await api.logout()
    expect(stored()).toBeUndefined()
    expect(api.session()).toBeNull()
    expect(trail()).toEqual(['POST /auth/login 200', 'POST /auth/logout 200'])
    const me = await fetch(`${baseUrl}/me`, { headers: { authorization: `JWT ${token}` } })
    expect(me.status).toBe(401)
    expect(await me.json()).toMatchObject({ error: { code: 'SESSION_EXPIRED' } })

    clock.advance(COOLED)
    await api.request({ url: '/me' })
    expect(phone.state.logins).toBe(2)
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

  it('retries a logout the server answers 503 STORAGE_UNAVAILABLE, after its Retry-After', async () => {
    const key = crypto.randomUUID()
    const path = `/__dev/fail?key=${key}&code=STORAGE_UNAVAILABLE&times=2&retryAfter=1`
    const { api, clock, stored, calls } = miniProgram({ paths: { logout: path } })
    await api.login()
    await expect(api.logout()).resolves.toBeUndefined()
    expect(calls(path)).toBe(3)
    expect(clock.slept).toEqual([SECOND, SECOND])
    expect(stored()).toBeUndefined()
  })

  it('retries a 503 STORAGE_OUTCOME_UNKNOWN with a short backoff, and the session ends', async () => {
    const { phone, api, clock, trail } = miniProgram()
    const { token } = await api.login()
    const failed = failLogouts(phone, 2, unavailable('STORAGE_OUTCOME_UNKNOWN'))
    await api.logout()
    expect(failed()).toBe(2)
    expect(clock.slept).toEqual([SECOND, 2 * SECOND])
    expect(trail()).toEqual(['POST /auth/login 200', 'POST /auth/logout 200'])
    expect(await alive(token)).toBe(false)
  })

  it('retries a logout that got no answer, and the session ends', async () => {
    const { phone, api, clock } = miniProgram()
    const { token } = await api.login()
    const failed = failLogouts(phone, 2, new Error('offline'))
    await api.logout()
    expect(failed()).toBe(2)
    expect(clock.slept).toEqual([SECOND, 2 * SECOND])
    expect(await alive(token)).toBe(false)
  })

  it('waits a long Retry-After only up to maxRetryWait', async () => {
    const { phone, api, clock } = miniProgram({ maxRetryWait: 3 * SECOND })
    const { token } = await api.login()
    failLogouts(phone, 2, unavailable('STORAGE_UNAVAILABLE', '86400'))
    await api.logout()
    expect(clock.slept).toEqual([3 * SECOND, 3 * SECOND])
    expect(await alive(token)).toBe(false)
  })

  it('gives up after `retries`, still forgetting the token and never rejecting', async () => {
    const { phone, api, clock, stored } = miniProgram()
    const { token } = await api.login()
    const failed = failLogouts(phone, 10, unavailable('STORAGE_UNAVAILABLE', '1'))
    await expect(api.logout()).resolves.toBeUndefined()
    expect(failed()).toBe(3)
    expect(clock.slept).toEqual([SECOND, SECOND])
    expect(stored()).toBeUndefined()
    expect(await alive(token)).toBe(true) // ends at its expiresAt

    const once = miniProgram({ retries: 0 })
    await once.api.login()
    const tried = failLogouts(once.phone, 10, new Error('offline'))
    await once.api.logout()
    expect(tried()).toBe(1)
    expect(once.clock.slept).toEqual([])
  })

  it('does not retry a logout answered with another error', async () => {
    const { phone, api, clock } = miniProgram()
    await api.login()
    const failed = failLogouts(phone, 10, {
      statusCode: 500,
      data: { error: { code: 'INTERNAL_ERROR', message: 'Internal error.' } },
      header: {},
    })
    await api.logout()
    expect(failed()).toBe(1)
    expect(clock.slept).toEqual([])
  })

  it('forgets the token even when the server cannot be reached', async () => {
    const { api, again, stored } = miniProgram()
    await api.login()
    await expect(again({ baseUrl: DEAD_URL }).logout()).resolves.toBeUndefined()
    expect(stored()).toBeUndefined()
  })
})

describe('types', () => {
  it("the mini program's own wx fits the SDK", () => {
    expectTypeOf<WechatMiniprogram.Wx>().toExtend<CallbackApi>()
    expectTypeOf<TaroApi['login']>().returns.toEqualTypeOf<
      Promise<{ code?: string; anonymousCode?: string }>
    >()
    expectTypeOf<'SESSION_EXPIRED'>().toExtend<WxaClientErrorCode>()
    expectTypeOf<'BAD_URL'>().toExtend<WxaClientError['code']>()
    expectTypeOf<'NOT_A_CODE'>().not.toExtend<WxaClientErrorCode>()
  })
})

describe('codes renamed in 0.3', () => {
  it('carry their 0.2 name as alias, and is() matches either', async () => {
    const { phone, api } = miniProgram()
    phone.login = async () => 'not-a-code-the-emulator-issued'
    const failed = await rejection(api.request({ url: '/me' }))
    expect([failed.code, failed.alias]).toEqual(['CODE_INVALID', 'WECHAT_CODE_INVALID'])
    expect(failed.is('CODE_INVALID') && failed.is('WECHAT_CODE_INVALID')).toBe(true)
    expect(failed.is('CODE_USED')).toBe(false)
  })
})
