import { describe, expect, it } from 'vitest'
import { DEFAULT_LOGIN_COOLDOWN, DEFAULT_STORAGE_KEY } from '../src'
import { endSession } from './device'
import { baseUrl, type Me, miniProgram } from './helpers'

const HOUR = 60 * 60 * 1000 // ms; an access token lives 2 hours
const DAY = 24 * HOUR
const YEAR = 365 * DAY
const COOLED = DEFAULT_LOGIN_COOLDOWN + 1000 // ms

describe('refresh, not re-login', () => {
  it('past half the lifetime, the next request refreshes first, with the refresh token; no second login', async () => {
    const { phone, api, clock, stored, trail } = miniProgram()
    const first = await api.login()
    expect(first.refreshToken).toMatch(/^[\w-]{100,400}$/)
    clock.advance(0.9 * HOUR)
    await api.request({ url: '/me' })
    expect(trail()).toEqual(['POST /auth/login 200', 'GET /me 200'])

    clock.advance(0.2 * HOUR) // 1.1 of 2 hours
    const res = await api.request<Me>({ url: '/me' })
    expect(res.statusCode).toBe(200)
    expect(trail().slice(2)).toEqual(['POST /auth/refresh 200', 'GET /me 200'])
    expect(phone.state.logins).toBe(1)
    const renewed = stored()
    expect(renewed?.token).not.toBe(first.token)
    expect(renewed?.refreshToken).not.toBe(first.refreshToken)
    // The refresh sent the refresh token in the body, and no access token.
    const refreshCall = phone.state.sent.find((s) => s.path === '/auth/refresh')
    expect(refreshCall?.authorization).toBeNull()
    expect(renewed?.receivedAt).toBe(clock.time)
    expect(phone.state.sent.at(-1)?.authorization).toBe(`JWT ${renewed?.token}`)

    // The older token is dead (a refresh bumps the generation); the new one is used from now on.
    const old = await fetch(`${baseUrl}/me`, { headers: { authorization: `JWT ${first.token}` } })
    expect(old.status).toBe(401)
    await api.request({ url: '/me' })
    expect(trail().at(-1)).toBe('GET /me 200')
    expect(trail().filter((line) => line.startsWith('POST /auth/refresh'))).toHaveLength(1)
  })

  it('refreshAfter sets the point', async () => {
    const { api, clock, calls } = miniProgram({ refreshAfter: 0.1 })
    await api.login()
    clock.advance(0.1 * HOUR)
    await api.request({ url: '/me' })
    expect(calls('/auth/refresh')).toBe(0)
    clock.advance(0.2 * HOUR) // 0.3 of 2 hours > 0.2
    await api.request({ url: '/me' })
    expect(calls('/auth/refresh')).toBe(1)
  })

  it('ten concurrent requests past half the lifetime share one refresh', async () => {
    const { phone, api, clock, calls } = miniProgram()
    await api.login()
    clock.advance(1.5 * HOUR)
    const answers = await Promise.all(Array.from({ length: 10 }, () => api.request({ url: '/me' })))
    expect(answers.map((res) => res.statusCode)).toEqual(Array(10).fill(200))
    expect(calls('/auth/refresh')).toBe(1)
    expect(phone.state.logins).toBe(1)
  })

  it('a session the server ended: the refresh says 401, one login follows, the request is not 401', async () => {
    const { phone, api, clock, trail } = miniProgram()
    const { token } = await api.login()
    await endSession(baseUrl, token)
    clock.advance(1.5 * HOUR)
    expect((await api.request({ url: '/me' })).statusCode).toBe(200)
    expect(phone.state.logins).toBe(2)
    expect(trail()).toEqual([
      'POST /auth/login 200',
      'POST /auth/refresh 401',
      'POST /auth/login 200',
      'GET /me 200',
    ])
  })

  it('a refresh that fails (offline, 5xx) leaves the token in use and is not retried within the cooldown', async () => {
    const { wx, api, clock, trail } = miniProgram()
    await api.login()
    const request = wx.request.bind(wx)
    let refreshDown = true
    wx.request = (option) =>
      refreshDown && option.url.endsWith('/auth/refresh')
        ? option.fail?.({ errMsg: 'request:fail timeout' })
        : request(option)
    clock.advance(1.5 * HOUR)
    expect((await api.request({ url: '/me' })).statusCode).toBe(200)
    expect((await api.request({ url: '/me' })).statusCode).toBe(200)
    expect(trail()).toEqual(['POST /auth/login 200', 'GET /me 200', 'GET /me 200'])

    refreshDown = false
    clock.advance(COOLED)
    await api.request({ url: '/me' })
    expect(trail().slice(3)).toEqual(['POST /auth/refresh 200', 'GET /me 200'])
  })

  it('a session stored by an older SDK (no refresh token) is a silent login, not a refresh', async () => {
    const { phone, api, clock, again, calls } = miniProgram()
    const { token, expiresAt, expiresIn, receivedAt, user } = await api.login()
    for (const old of [
      { token, expiresAt, user }, // the first SDK: no expiresIn
      { token, expiresAt, expiresIn, receivedAt: receivedAt - 3 * HOUR, user }, // 0.3, expired
    ]) {
      phone.setStorage(DEFAULT_STORAGE_KEY, old)
      clock.advance(COOLED)
      expect((await again().request({ url: '/me' })).statusCode).toBe(200)
    }
    expect(calls('/auth/refresh')).toBe(0)
    expect(phone.state.logins).toBe(3)
  })

  it('L-1: a refresh whose answer was lost is sent again at once with the same refresh token; the session lives', async () => {
    const { wx, phone, api, clock, stored, calls } = miniProgram()
    const first = await api.login()
    const request = wx.request.bind(wx)
    const sent: unknown[] = []
    let lose = 1
    wx.request = (option) => {
      if (!option.url.endsWith('/auth/refresh')) return request(option)
      sent.push(option.data)
      // The server rotates the token; its answer never reaches the phone.
      if (lose-- > 0) {
        return request({
          ...option,
          success: () => option.fail?.({ errMsg: 'request:fail timeout' }),
        })
      }
      return request(option)
    }
    clock.advance(1.1 * HOUR)
    expect((await api.request({ url: '/me' })).statusCode).toBe(200)
    expect(sent).toEqual([
      { refreshToken: first.refreshToken },
      { refreshToken: first.refreshToken },
    ])
    const renewed = stored()
    expect(renewed?.refreshToken).not.toBe(first.refreshToken)
    // Later refreshes go on from the replayed answer: no reuse, no second login.
    for (let i = 0; i < 2; i++) {
      clock.advance(1.1 * HOUR)
      expect((await api.request({ url: '/me' })).statusCode).toBe(200)
    }
    expect(calls('/auth/refresh')).toBe(4)
    expect(phone.state.logins).toBe(1)
    expect(stored()?.refreshToken).not.toBe(renewed?.refreshToken)
  })

  it('L-1: a 5xx to a refresh is sent again at once; a lasting outage keeps the token in use', async () => {
    const { wx, api, clock, calls, stored } = miniProgram()
    const first = await api.login()
    const request = wx.request.bind(wx)
    let failing = 5
    wx.request = (option) =>
      option.url.endsWith('/auth/refresh') && failing-- > 0
        ? option.success?.({
            statusCode: 502,
            data: { error: { code: 'UPSTREAM_ERROR', message: 'proxy' } },
            header: {},
          })
        : request(option)
    clock.advance(1.1 * HOUR)
    expect((await api.request({ url: '/me' })).statusCode).toBe(200)
    expect(failing).toBe(2) // the first try and two at once
    expect(stored()?.refreshToken).toBe(first.refreshToken)
    expect(calls('/auth/refresh')).toBe(0) // none reached the server
  })
})

describe('the device clock is never compared with the server', () => {
  it('a clock five years ahead from the start: one login, no refresh, for twenty requests', async () => {
    const { phone, api, clock, calls } = miniProgram()
    clock.advance(5 * YEAR)
    for (let i = 0; i < 20; i++) {
      expect((await api.request({ url: '/me' })).statusCode).toBe(200)
      clock.advance(60 * 1000)
    }
    expect(phone.state.logins).toBe(1)
    expect(calls('/auth/login')).toBe(1)
    expect(calls('/auth/refresh')).toBe(0)
  })

  it('a clock that jumps years ahead after login: one refresh, then calm', async () => {
    const { phone, api, clock, calls } = miniProgram()
    await api.login()
    clock.advance(5 * YEAR)
    for (let i = 0; i < 10; i++) await api.request({ url: '/me' })
    expect(phone.state.logins).toBe(1)
    expect(calls('/auth/refresh')).toBe(1)
  })

  it('a clock that jumps years back after login: one refresh, then calm', async () => {
    const { phone, api, clock, calls } = miniProgram()
    await api.login()
    clock.advance(-5 * YEAR)
    for (let i = 0; i < 10; i++) await api.request({ url: '/me' })
    expect(phone.state.logins).toBe(1)
    expect(calls('/auth/refresh')).toBe(1)
  })

  it('session() is null once the lifetime is over by the device clock', async () => {
    const { api, clock } = miniProgram()
    const session = await api.login()
    expect(api.session()?.token).toBe(session.token)
    clock.advance(session.expiresIn * 1000 + 1)
    expect(api.session()).toBeNull()
  })
})
