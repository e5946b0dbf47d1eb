import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import type { CallbackApi } from '../src'
import { device, testClock } from './device'
import { baseUrl } from './helpers'
import { wxStandIn } from './stand-ins'

// The README's "Upgrading from 0.3": a mini program still on the 0.3 SDK keeps
// working against this server. The SDK is 0.3's own code (client/src/ at
// 7278af3), bundled once into test/fixtures/sdk-0.3.cjs by
// scripts/make-sdk-0.3-fixture.mjs, over the same `wx` stand-in and the running
// dev Worker as the other SDK tests.

/** The part of the 0.3 SDK this test drives. */
interface Sdk03 {
  createClient(options: {
    baseUrl: string
    wx: CallbackApi
    now: () => number
    sleep: (ms: number) => Promise<void>
  }): {
    login(): Promise<{ token: string; expiresIn: number; refreshToken?: string }>
    request<T>(options: { url: string }): Promise<{ statusCode: number; data: T }>
  }
  DEFAULT_STORAGE_KEY: string
}

const sdk03 = createRequire(import.meta.url)('../../test/fixtures/sdk-0.3.cjs') as Sdk03

const HOUR = 60 * 60 * 1000 // ms; an access token lives 2 hours

/** The JWT's claims, unverified: the test reads its lifetime. */
const claims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
    iat: number
    exp: number
  }

const me = (token: string) => fetch(`${baseUrl}/me`, { headers: { authorization: `JWT ${token}` } })

describe('a mini program on the 0.3 SDK against this server', () => {
  it('logs in, reads, its header-only refresh is 401, it logs in again by itself and reads on', async () => {
    const phone = device(baseUrl)
    const clock = testClock()
    const api = sdk03.createClient({
      baseUrl,
      wx: wxStandIn(phone),
      now: clock.now,
      sleep: clock.sleep,
    })
    const trail = () =>
      phone.state.sent.map(({ method, path, status }) => `${method} ${path} ${status}`)

    const first = await api.login()
    expect((await api.request({ url: '/me' })).statusCode).toBe(200)
    expect(trail()).toEqual(['POST /auth/login 200', 'GET /me 200'])
    // The access token lives 2 hours, not the session's lifetime.
    const { iat, exp } = claims(first.token)
    expect(exp - iat).toBe(2 * 60 * 60)

    // Past half of it, the 0.3 SDK refreshes the only way it knows: its
    // access token in the header, no body. The server refuses; the SDK logs in
    // again with wx.login, and the request goes through with the new token.
    clock.advance(1.1 * HOUR)
    const res = await api.request<{ user: { openid: string } }>({ url: '/me' })
    expect(res.statusCode).toBe(200)
    expect(res.data.user.openid).toBe(phone.state.openid)
    expect(trail().slice(2)).toEqual([
      'POST /auth/refresh 401',
      'POST /auth/login 200',
      'GET /me 200',
    ])
    const refreshCall = phone.state.sent[2]
    expect(refreshCall?.authorization).toBe(`JWT ${first.token}`)
    expect(refreshCall?.body).toBeUndefined()
    expect(phone.state.logins).toBe(2)
    const stored = phone.state.storage.get(sdk03.DEFAULT_STORAGE_KEY) as { token: string }
    expect(stored.token).not.toBe(first.token)
    expect(phone.state.sent.at(-1)?.authorization).toBe(`JWT ${stored.token}`)

    // The refused refresh ended nothing: the first token still reads, until
    // its own expiry (checked above: 2 hours after it was issued).
    expect(exp * 1000).toBeGreaterThan(Date.now())
    expect((await me(first.token)).status).toBe(200)
    expect((await me(stored.token)).status).toBe(200)
  })
})
