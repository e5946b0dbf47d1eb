import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { DEFAULT_LOGIN_COOLDOWN, DEFAULT_MAX_RETRY_WAIT } from '../src'
import { emulator } from './device'
import { baseUrl, miniProgram, rejection } from './helpers'

const SECOND = 1000 // ms
const ALWAYS_401 = '/__dev/unauthorized'

/** A `/__dev/fail` path whose first `times` calls answer `code`, with Retry-After `retryAfter`. */
function failing(code: string, times: number, retryAfter?: number) {
  const query = new URLSearchParams({ key: randomUUID(), code, times: String(times) })
  if (retryAfter !== undefined) query.set('retryAfter', String(retryAfter))
  return `/__dev/fail?${query}`
}

describe('a route that always answers 401', () => {
  it('costs one login in all, and no refresh while the clock stands still', async () => {
    const { phone, api, calls } = miniProgram()
    for (let i = 0; i < 20; i++) {
      const error = await rejection(api.request({ url: ALWAYS_401 }))
      expect(error.code).toBe('LOGIN_REJECTED')
      expect(error.serverCode).toBe('AUTH_REQUIRED')
    }
    expect(phone.state.logins).toBe(1)
    expect(calls('/auth/login')).toBe(1)
    expect(calls('/auth/refresh')).toBe(0)
    expect(calls(ALWAYS_401)).toBe(20)
  })

  it('over time: one refresh per loginCooldown at most, still one login', async () => {
    const { phone, api, clock, calls } = miniProgram()
    await api.login()
    for (let i = 0; i < 30; i++) {
      clock.advance(SECOND)
      expect((await rejection(api.request({ url: ALWAYS_401 }))).code).toBe('LOGIN_REJECTED')
    }
    expect(phone.state.logins).toBe(1)
    expect(calls('/auth/login')).toBe(1)
    expect(calls('/auth/refresh')).toBe(3) // at 10, 20 and 30 s
    expect(calls(ALWAYS_401)).toBe(30 + 3) // one retry after each refresh
  })
})

describe('the server down', () => {
  it('one login attempt per loginCooldown, each request failing fast in between', async () => {
    const { phone, api, clock, calls } = miniProgram()
    phone.state.offline = true
    for (let i = 0; i < 60; i++) {
      const error = await rejection(api.request({ url: '/me' }))
      expect(error.code).toBe('NETWORK_ERROR')
      clock.advance(SECOND)
    }
    expect(phone.state.logins).toBe(6) // at 0, 10, 20, 30, 40 and 50 s
    expect(calls('/auth/login')).toBe(6)
    expect(calls('/me')).toBe(0)

    phone.state.offline = false
    expect((await api.request({ url: '/me' })).statusCode).toBe(200)
    expect(phone.state.logins).toBe(7)
  })

  it('a login answered 503 UPSTREAM_UNAVAILABLE holds the next one back for its Retry-After', async () => {
    const { phone, openid, api, clock, calls } = miniProgram({ loginCooldown: SECOND })
    // WeChat busy for the Worker's first attempt and its two retries: one 503.
    await emulator(baseUrl, `users/${openid}`, { fault: 'busy', times: 3 })
    const first = await rejection(api.request({ url: '/me' }))
    expect(first.code).toBe('UPSTREAM_UNAVAILABLE')
    expect(first.status).toBe(503)
    expect(first.retryAfter).toBe(5)

    clock.advance(2 * SECOND) // past the cooldown, within Retry-After
    const held = await rejection(api.request({ url: '/me' }))
    expect(held.code).toBe('UPSTREAM_UNAVAILABLE')
    expect(held.retryAfter).toBe(3)
    expect(calls('/auth/login')).toBe(1)

    clock.advance(3 * SECOND)
    expect((await api.request({ url: '/me' })).statusCode).toBe(200)
    expect(phone.state.logins).toBe(2)
    expect(calls('/auth/login')).toBe(2)
  })

  it('a Retry-After of a day holds the next login back for maxRetryWait at most', async () => {
    const { phone, openid, api, clock, calls } = miniProgram({ loginCooldown: SECOND })
    await emulator(baseUrl, `users/${openid}`, { fault: 'busy', times: 3 })
    // A proxy in front of the Worker that turns its Retry-After: 5 into a day.
    const request = phone.request
    phone.request = async (...args) => {
      const res = await request(...args)
      if (!res.header['retry-after']) return res
      return { ...res, header: { ...res.header, 'retry-after': String(24 * 60 * 60) } }
    }
    const first = await rejection(api.request({ url: '/me' }))
    expect(first.code).toBe('UPSTREAM_UNAVAILABLE')
    expect(first.retryAfter).toBe(24 * 60 * 60) // what the answer said

    clock.advance(4 * SECOND)
    const held = await rejection(api.request({ url: '/me' }))
    expect(held.code).toBe('UPSTREAM_UNAVAILABLE')
    expect(held.retryAfter).toBe(DEFAULT_MAX_RETRY_WAIT / SECOND - 4)
    expect(calls('/auth/login')).toBe(1)

    clock.advance(DEFAULT_MAX_RETRY_WAIT - 4 * SECOND)
    expect((await api.request({ url: '/me' })).statusCode).toBe(200)
    expect(calls('/auth/login')).toBe(2)
  })

  it('the login hold-back follows the maxRetryWait option', async () => {
    const { openid, api, clock, calls } = miniProgram({
      loginCooldown: SECOND,
      maxRetryWait: 2 * SECOND,
    })
    await emulator(baseUrl, `users/${openid}`, { fault: 'busy', times: 3 })
    expect((await rejection(api.request({ url: '/me' }))).retryAfter).toBe(5)
    clock.advance(2 * SECOND) // within the answer's 5 s, past maxRetryWait
    expect((await api.request({ url: '/me' })).statusCode).toBe(200)
    expect(calls('/auth/login')).toBe(2)
  })

  it('a login within the cooldown of the last one is LOGIN_COOLDOWN, with no call', async () => {
    const { phone, api, clock } = miniProgram()
    await api.login()
    await api.logout()
    clock.advance(4 * SECOND)
    const error = await rejection(api.request({ url: '/me' }))
    expect(error.code).toBe('LOGIN_COOLDOWN')
    expect(error.retryAfter).toBe(DEFAULT_LOGIN_COOLDOWN / SECOND - 4)
    expect(phone.state.logins).toBe(1)
  })
})

describe('Retry-After on 429 and 503', () => {
  it('waits it out and retries, a bounded number of times', async () => {
    const { api, clock, calls } = miniProgram()
    const path = failing('UPSTREAM_UNAVAILABLE', 2, 1)
    const res = await api.request<{ failed: number }>({ url: path })
    expect(res.data.failed).toBe(2)
    expect(calls(path)).toBe(3)
    expect(clock.slept).toEqual([SECOND, SECOND])
  })

  it('gives up after `retries` with the last answer, RATE_LIMITED here', async () => {
    const { api, clock, calls } = miniProgram()
    const path = failing('RATE_LIMITED', 5, 2)
    const error = await rejection(api.request({ url: path }))
    expect(error.code).toBe('RATE_LIMITED')
    expect(error.status).toBe(429)
    expect(error.retryAfter).toBe(2)
    expect(calls(path)).toBe(3)
    expect(clock.slept).toEqual([2 * SECOND, 2 * SECOND])

    const once = miniProgram({ retries: 0 })
    const other = failing('RATE_LIMITED', 5, 2)
    await rejection(once.api.request({ url: other }))
    expect(once.calls(other)).toBe(1)
  })

  it('does not wait longer than maxRetryWait, nor without Retry-After', async () => {
    const { api, clock, calls } = miniProgram()
    const long = failing('RATE_LIMITED', 1, 60)
    expect((await rejection(api.request({ url: long }))).retryAfter).toBe(60)
    expect(calls(long)).toBe(1)

    const bare = failing('UPSTREAM_UNAVAILABLE', 1)
    expect((await rejection(api.request({ url: bare }))).code).toBe('UPSTREAM_UNAVAILABLE')
    expect(calls(bare)).toBe(1)
    expect(clock.slept).toEqual([])
  })
})
