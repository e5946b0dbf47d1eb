import { afterEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_ACCESS_TOKEN_TTL, DEFAULT_SESSION_TTL } from '../src/config'
import { addressKey } from '../src/middleware/rate-limit'
import { BoundedMap } from '../src/util/bounded-map'
import {
  appWith,
  call,
  codeFor,
  decodeJwt,
  emulatedSessionKey,
  expectError,
  kvKeys,
  login,
  newOpenid,
  readAtEdge,
  refreshWith,
  served,
  testApp,
  testEnv,
} from './helpers'

const APP_ID = 'wx00000000emulator'
const SECRET = 'rotation-Tq6wE1rY9uI3oP7aS2dF5gH8jK0lZ4x-'

describe('devices', () => {
  it('lists the user’s sessions with device hints, the current one marked', async () => {
    const openid = newOpenid()
    const phone = await call('POST', '/auth/login', {
      json: { code: await codeFor(openid), device: { platform: 'ios', model: 'iPhone 15' } },
      headers: { 'User-Agent': 'Mozilla/5.0 MicroMessenger/8.0.50 MiniProgramEnv/iOS' },
    })
    const laptop = await login(openid)
    const res = await call('GET', '/auth/sessions', { token: phone.body.token })
    expect(res.status).toBe(200)
    expect(res.body.sessions).toEqual(
      [
        {
          id: expect.stringMatching(/^[\w-]{43}$/),
          current: false,
          createdAt: expect.any(String),
          refreshedAt: expect.any(String),
          expiresAt: laptop.refreshExpiresAt,
          device: {},
        },
        {
          id: expect.stringMatching(/^[\w-]{43}$/),
          current: true,
          createdAt: expect.any(String),
          refreshedAt: expect.any(String),
          expiresAt: phone.body.refreshExpiresAt,
          device: {
            platform: 'ios',
            model: 'iPhone 15',
            userAgent: 'Mozilla/5.0 MicroMessenger/8.0.50 MiniProgramEnv/iOS',
          },
        },
      ].sort((a, b) => Number(a.current) - Number(b.current)),
    )
    // The public id is not the session id of the token.
    const sid = decodeJwt(phone.body.token).payload.sid
    expect(JSON.stringify(res.body)).not.toContain(sid)
  })

  it('revokes one device by id; the others stay', async () => {
    const openid = newOpenid()
    const a = await login(openid)
    const b = await login(openid)
    const list = (await call('GET', '/auth/sessions', { token: a.token })).body.sessions
    const other = list.find((s: { current: boolean }) => !s.current)
    const res = await call('DELETE', `/auth/sessions/${other.id}`, { token: a.token })
    expect(res.status).toBe(200)
    expectError(await call('GET', '/me', { token: b.token }), 401, 'SESSION_EXPIRED')
    expect((await call('GET', '/me', { token: a.token })).status).toBe(200)
    expectError(
      await call('DELETE', `/auth/sessions/${other.id}`, { token: a.token }),
      404,
      'SESSION_NOT_FOUND',
    )
  })

  it('cannot reach another user’s session', async () => {
    const mine = await login()
    const theirs = await login()
    const theirId = (await call('GET', '/auth/sessions', { token: theirs.token })).body.sessions[0]
      .id
    const res = await call('DELETE', `/auth/sessions/${theirId}`, { token: mine.token })
    expectError(res, 404, 'SESSION_NOT_FOUND')
    expect((await call('GET', '/me', { token: theirs.token })).status).toBe(200)
  })

  it('rejects malformed device hints', async () => {
    const code = await codeFor(newOpenid())
    for (const device of [{ platform: 'x'.repeat(65) }, { secret: 'a' }, 'ios', [1]]) {
      const res = await call('POST', '/auth/login', { json: { code, device } })
      expectError(res, 400, 'INVALID_REQUEST')
    }
  })

  it('logs out everywhere', async () => {
    const openid = newOpenid()
    const tokens = [await login(openid), await login(openid), await login(openid)].map(
      (l) => l.token,
    )
    for (const token of tokens.slice(1)) await readAtEdge(token)
    const res = await call('POST', '/auth/logout-all', { token: tokens[1] })
    expect(res.body).toEqual({ ok: true, loggedOut: 3 })
    for (const token of tokens) {
      expectError(await call('GET', '/me', { token }), 401, 'SESSION_EXPIRED')
    }
    expect(await kvKeys(`session:${decodeJwt(tokens[0] as string).payload.sub}:`)).toEqual([])
  })

  it('keeps at most MAX_SESSIONS per user, dropping the oldest', async () => {
    const app = appWith({ MAX_SESSIONS: '3' })
    const openid = newOpenid()
    const logins = []
    for (let i = 0; i < 5; i++) {
      const done = await login(openid, app)
      await readAtEdge(done.token)
      logins.push(done)
    }
    const statuses = []
    for (const { token } of logins) statuses.push((await call('GET', '/me', { token }, app)).status)
    expect(statuses).toEqual([401, 401, 200, 200, 200])
    expect(await kvKeys(`session:${logins[0]?.user.id}:`)).toHaveLength(3)
  })
})

describe('refresh', () => {
  it('returns a new token of the same session, and older tokens die', async () => {
    const first = await login()
    await call('PATCH', '/me/session', { token: first.token, json: { cart: [1] } })
    const res = await refreshWith(first.refreshToken)
    expect(res.status, res.text).toBe(200)
    expect(res.body).toEqual({
      token: expect.any(String),
      tokenType: 'JWT',
      expiresAt: expect.any(String),
      expiresIn: expect.any(Number),
      refreshToken: expect.stringMatching(/^[\w-]{100,400}$/),
      refreshExpiresAt: first.refreshExpiresAt,
      user: first.user,
    })
    const before = decodeJwt(first.token).payload
    const after = decodeJwt(res.body.token).payload
    expect(after).toMatchObject({ sid: before.sid, sub: before.sub, gen: 1 })

    // A replaced access token is refused as an ended session is: polling tells nothing.
    expectError(await call('GET', '/me', { token: first.token }), 401, 'SESSION_EXPIRED')
    const me = await call('GET', '/me', { token: res.body.token })
    expect(me.body.session).toEqual({ cart: [1] })

    const again = await refreshWith(res.body.refreshToken)
    expect(decodeJwt(again.body.token).payload.gen).toBe(2)
    expectError(await call('GET', '/me', { token: res.body.token }), 401, 'SESSION_EXPIRED')
    expectError(await refreshWith(first.refreshToken), 401, 'TOKEN_REVOKED')
  })

  it('extends the session only past half its lifetime, with one KV write', async () => {
    const openid = newOpenid()
    const { token, refreshToken, refreshExpiresAt } = await login(openid)
    await readAtEdge(token)
    const start = decodeJwt(token).payload.iat
    const early = await refreshWith(refreshToken)
    const { exp, iat } = decodeJwt(early.body.token).payload
    // The access token lives ACCESS_TOKEN_TTL; the session (the refresh token) is not extended yet.
    expect(exp).toBe(iat + DEFAULT_ACCESS_TOKEN_TTL)
    expect(early.body.expiresIn).toBe(exp - iat)
    expect(early.body.refreshExpiresAt).toBe(refreshExpiresAt)
    expect(Date.parse(refreshExpiresAt) / 1000).toBe(start + DEFAULT_SESSION_TTL)

    // Sixteen days later, the session is past half its lifetime.
    const later = start + 16 * 24 * 60 * 60
    const app = served(testApp({ now: () => later }))
    const late = await refreshWith(early.body.refreshToken, app)
    expect(late.status, late.text).toBe(200)
    expect(decodeJwt(late.body.token).payload.exp).toBe(later + DEFAULT_ACCESS_TOKEN_TTL)
    expect(late.body.expiresIn).toBe(DEFAULT_ACCESS_TOKEN_TTL)
    expect(Date.parse(late.body.refreshExpiresAt) / 1000).toBe(later + DEFAULT_SESSION_TTL)
    const [key] = await kvKeys(`session:${decodeJwt(token).payload.sub}:`)
    expect(key?.expiration).toBeGreaterThan(start + DEFAULT_SESSION_TTL + 15 * 24 * 60 * 60)
  })
})

describe('secret rotation', () => {
  const ring = (value: string) => appWith({ JWT_SECRETS: value })

  it('signs with the newest key, verifies retired-but-listed keys, rejects removed ones', async () => {
    const before = ring(`2026-05:${SECRET}old`)
    const during = ring(`2026-11:${SECRET}new 2026-05:${SECRET}old`)
    const after = ring(`2026-11:${SECRET}new`)

    const old = await login(undefined, before)
    expect(decodeJwt(old.token).header.kid).toBe('2026-05')
    const fresh = await login(undefined, during)
    expect(decodeJwt(fresh.token).header.kid).toBe('2026-11')

    expect((await call('GET', '/me', { token: old.token }, during)).status).toBe(200)
    expect((await call('GET', '/me', { token: fresh.token }, after)).status).toBe(200)
    expectError(await call('GET', '/me', { token: old.token }, after), 401, 'TOKEN_INVALID')

    // A refresh during the rotation moves an old session onto the new key.
    const moved = await refreshWith(old.refreshToken, during)
    expect(decodeJwt(moved.body.token).header.kid).toBe('2026-11')
    expect((await call('GET', '/me', { token: moved.body.token }, after)).status).toBe(200)
  })
})

describe('encryption at rest', () => {
  it('keeps session_key, session data and session ids out of KV values', async () => {
    const openid = newOpenid()
    const { token, user } = await login(openid)
    await readAtEdge(token)
    await call('PATCH', '/me/session', { token, json: { secretNote: 'meet at noon' } })
    const sessionKey = await emulatedSessionKey(openid)
    expect(sessionKey).toMatch(/==$/)

    const sid = decodeJwt(token).payload.sid
    const [session] = await kvKeys(`session:${user.id}:`)
    const raw = [
      await testEnv.SESSIONS.get(session?.name as string),
      await testEnv.SESSIONS.get(`identity:${APP_ID}:${openid}`),
    ]
    for (const value of raw) {
      expect(value).toMatch(/^v1\.[\w-]{16}\.[\w-]+$/)
      expect(value).not.toContain(sessionKey)
      expect(value).not.toContain('meet at noon')
      expect(value).not.toContain(openid)
      expect(value).not.toContain(sid)
    }
    expect(session?.name).not.toContain(sid)
  })

  it('never trusts a record sealed under another STORAGE_SECRET: the session object answers', async () => {
    const { token } = await login()
    await call('PATCH', '/me/session', { token, json: { owner: 'me' } })
    const other = appWith({ STORAGE_SECRET: `${SECRET}another-storage-key` })
    const res = await call('GET', '/me', { token }, other)
    expect(res.status, res.text).toBe(200)
    expect(res.body.session).toEqual({ owner: 'me' })
  })

  it('does not open a record moved to another key: the session object answers for its own', async () => {
    const uncached = appWith({ SESSION_CACHE_SECONDS: '0' })
    const a = await login(undefined, uncached)
    const b = await login(undefined, uncached)
    await call('PATCH', '/me/session', { token: a.token, json: { owner: 'a' } }, uncached)
    await call('PATCH', '/me/session', { token: b.token, json: { owner: 'b' } }, uncached)
    // Each PATCH read its session at the edge (a miss: the object wrote the copy) and changed it.
    const [keyA] = await kvKeys(`session:${a.user.id}:`)
    const [keyB] = await kvKeys(`session:${b.user.id}:`)
    expect([keyA, keyB]).toEqual([expect.anything(), expect.anything()])
    await testEnv.SESSIONS.put(
      keyB?.name as string,
      (await testEnv.SESSIONS.get(keyA?.name as string)) as string,
    )
    const res = await call('GET', '/me', { token: b.token }, uncached)
    expect(res.body).toMatchObject({ user: { id: b.user.id }, session: { owner: 'b' } })
  })
})

describe('the in-isolate session cache', () => {
  /** An app with a configuration (and so a store and its cache) of its own, like an isolate. */
  const isolate = (seconds: string) => appWith({ SESSION_CACHE_SECONDS: seconds })

  it('sees its own logout at once, another isolate’s within SESSION_CACHE_SECONDS', async () => {
    const here = isolate('1')
    const elsewhere = isolate('1')
    const { token } = await login(undefined, here)
    expect((await call('GET', '/me', { token }, elsewhere)).status).toBe(200)

    await call('POST', '/auth/logout', { token }, here)
    expectError(await call('GET', '/me', { token }, here), 401, 'SESSION_EXPIRED')
    // The other isolate still holds the record it read, for at most a second here.
    expect((await call('GET', '/me', { token }, elsewhere)).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    expectError(await call('GET', '/me', { token }, elsewhere), 401, 'SESSION_EXPIRED')
  })

  it('with 0, asks KV on every request', async () => {
    const here = isolate('0')
    const elsewhere = isolate('0')
    const { token } = await login(undefined, here)
    expect((await call('GET', '/me', { token }, elsewhere)).status).toBe(200)
    await call('POST', '/auth/logout', { token }, here)
    expectError(await call('GET', '/me', { token }, elsewhere), 401, 'SESSION_EXPIRED')
  })
})

describe('rate limits', () => {
  it('answers 429 past the per-user limit of WeChat data calls; another user is not affected', async () => {
    const { token } = await login()
    const statuses: number[] = []
    for (let i = 0; i < 31; i++) {
      const res = await call('POST', '/auth/decrypt', {
        token,
        json: { encryptedData: 'AAAA', iv: 'AAAA' },
      })
      statuses.push(res.status)
    }
    expect(statuses.slice(0, 30).every((s) => s === 400)).toBe(true)
    const res = await call('POST', '/auth/phone', { token, json: { code: 'x' } })
    expectError(res, 429, 'RATE_LIMITED')
    expect(res.headers.get('retry-after')).toBe('60')
    const other = await login()
    const ok = await call('POST', '/auth/decrypt', {
      token: other.token,
      json: { encryptedData: 'AAAA', iv: 'AAAA' },
    })
    expect(ok.status).toBe(400)
  })

  it('answers 429 with Retry-After past the login limit of one address', async () => {
    const headers = { 'CF-Connecting-IP': '2001:db8::429' }
    const statuses: number[] = []
    for (let i = 0; i < 31; i++) {
      const code = await codeFor(newOpenid())
      statuses.push((await call('POST', '/auth/login', { json: { code }, headers })).status)
    }
    expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true)
    const res = await call('POST', '/auth/login', { json: { code: 'x' }, headers })
    expectError(res, 429, 'RATE_LIMITED')
    expect(res.headers.get('retry-after')).toBe('60')
    // Another address is not affected.
    expect(
      (await call('POST', '/auth/login', { json: { code: await codeFor(newOpenid()) } })).status,
    ).toBe(200)
  })
})

describe('the login rate limit (review of 0.1, finding 7)', () => {
  afterEach(() => vi.restoreAllMocks())

  it('keys IPv6 clients by their /64', () => {
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:DB8:1:2::7')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1')
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1')
  })

  it('counts every address of one /64 together', async () => {
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:64`
    const statuses: number[] = []
    for (let i = 0; i < 31; i++) {
      const headers = { 'CF-Connecting-IP': `${prefix}::${(i + 1).toString(16)}` }
      statuses.push((await call('POST', '/auth/login', { json: {}, headers })).status)
    }
    expect(statuses.slice(0, 30).every((s) => s === 400)).toBe(true)
    expect(statuses[30]).toBe(429)
  })

  it('says once in the log when requests carry no CF-Connecting-IP', async () => {
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const app = served(testApp())
    for (let i = 0; i < 3; i++) {
      const res = await app.fetch('http://wxa.test/auth/login', { method: 'POST', body: '{}' })
      expect(res.status).toBe(400)
    }
    const lines = warned.mock.calls.filter((args) => String(args[0]).includes('CF-Connecting-IP'))
    expect(lines.length).toBe(1)
  })
})

describe('the in-isolate caches (review of 0.1, finding 2)', () => {
  it('bounds the in-isolate caches by bytes as well as entries', () => {
    const map = new BoundedMap<string, string>(1000, { maxBytes: 100, sizeOf: (v) => v.length })
    for (let i = 0; i < 10; i++) map.set(`k${i}`, 'x'.repeat(30))
    expect(map.size).toBe(3)
    expect(map.bytes).toBeLessThanOrEqual(100)
    expect(map.get('k9')).toBeDefined()
    expect(map.get('k0')).toBeUndefined()
    // A single value over the budget is not kept at all.
    map.set('big', 'x'.repeat(101))
    expect(map.get('big')).toBeUndefined()
    expect(map.bytes).toBeLessThanOrEqual(100)
  })
})
