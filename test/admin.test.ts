// The operators' API on Workers: the key guard (absent, wrong, revoked,
// rate-limited, /admin 404 without ADMIN_KEYS), bans through the API (every
// session ends, login and refresh 403 with until, the ban lifts itself), and
// what an operator may do to a user.
import { describe, expect, it } from 'vitest'
import type { WxaBindings } from '../src/env'
import {
  appWith,
  call,
  codeFor,
  expectError,
  type Fetcher,
  login,
  newOpenid,
  randomAddress,
  refreshWith,
} from './helpers'

// Generated keys, as `openssl rand -base64 32` would make them.
const KEY_OPS = 'cS3n1XzV8qL0mT5wR9pB2dK7hF4gJ6aY'
const KEY_ALT = 'Hq8Zr2Lk5Wm1Xv7Tb4Nc9Pd3Fs6Jg0Ey'
const ADMIN_KEYS = `ops:${KEY_OPS},alt:${KEY_ALT}`

/** An admin call with `key` as the bearer (none when null). */
function admin<T = any>(
  app: Fetcher,
  method: string,
  path: string,
  key: string | null = KEY_OPS,
  options: { json?: unknown; headers?: Record<string, string> } = {},
) {
  return call<T>(
    method,
    `/admin/api${path}`,
    {
      ...options,
      headers: { ...(key === null ? {} : { Authorization: `Bearer ${key}` }), ...options.headers },
    },
    app,
  )
}

const withKeys = (vars: Partial<WxaBindings> = {}, options = {}) =>
  appWith({ ADMIN_KEYS, ...vars }, options)

describe('admin auth', () => {
  it('without ADMIN_KEYS the whole /admin tree is 404 NOT_FOUND, key or not', async () => {
    const app = appWith()
    for (const path of ['/admin', '/admin/', '/admin/api/audit', '/admin/api/audit']) {
      expectError(await call('GET', path, {}, app), 404, 'NOT_FOUND')
    }
    expectError(await admin(app, 'GET', '/audit'), 404, 'NOT_FOUND')
    expectError(
      await admin(app, 'POST', '/users/u/ban', KEY_OPS, { json: { reason: 'x' } }),
      404,
      'NOT_FOUND',
    )
  })

  it('a missing or wrong key is 401 ADMIN_KEY_INVALID with WWW-Authenticate: Bearer', async () => {
    const app = withKeys()
    const wrong = [
      null,
      `${KEY_OPS.slice(0, -1)}x`, // one character off, same length
      KEY_OPS.slice(0, -1), // a prefix
      `ops:${KEY_OPS}`, // the whole entry
      '',
    ]
    for (const key of wrong) {
      const res = await admin(app, 'GET', '/audit', key)
      expectError(res, 401, 'ADMIN_KEY_INVALID')
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer realm=/)
      expect(res.text).not.toContain(KEY_OPS)
    }
    // The scheme must be Bearer: a key sent as a JWT is refused.
    const asJwt = await call(
      'GET',
      '/admin/api/audit',
      { headers: { Authorization: `JWT ${KEY_OPS}` } },
      app,
    )
    expectError(asJwt, 401, 'ADMIN_KEY_INVALID')
    expect((await admin(app, 'GET', '/audit')).status).toBe(200)
    expect((await admin(app, 'GET', '/audit', KEY_ALT)).status).toBe(200)
  })

  it('a kid removed from ADMIN_KEYS is refused at once; the others still work', async () => {
    expect((await admin(withKeys(), 'GET', '/audit', KEY_ALT)).status).toBe(200)
    const revoked = appWith({ ADMIN_KEYS: `ops:${KEY_OPS}` })
    expectError(await admin(revoked, 'GET', '/audit', KEY_ALT), 401, 'ADMIN_KEY_INVALID')
    expect((await admin(revoked, 'GET', '/audit', KEY_OPS)).status).toBe(200)
  })

  it('is rate-limited per client address (30 a minute): 429 with Retry-After, any key', async () => {
    const app = withKeys()
    const address = randomAddress()
    const from = (key: string | null) =>
      admin(app, 'GET', '/audit', key, { headers: { 'CF-Connecting-IP': address } })
    for (let i = 0; i < 30; i++) expect((await from(i % 2 ? null : 'wrong')).status).toBe(401)
    const limited = await from('wrong')
    expectError(limited, 429, 'RATE_LIMITED')
    expect(limited.headers.get('Retry-After')).toBe('60')
    // Past the limit even the right key learns nothing: a guess cannot be told from a hit.
    expectError(await from(KEY_OPS), 429, 'RATE_LIMITED')
    // Another address is not held back.
    expect((await admin(app, 'GET', '/audit')).status).toBe(200)
  })

  it('a short key is CONFIG_INVALID naming its kid, never the key', async () => {
    const app = appWith({ ADMIN_KEYS: 'weak:tooshort1234' })
    const res = await call('GET', '/readyz', {}, app)
    expect(res.status).toBe(503)
    expect(res.text).toContain('ADMIN_KEYS')
    expect(res.text).not.toContain('tooshort1234')
  })
})

describe('bans through the admin API', () => {
  it('ends every session at once; login and refresh answer 403 USER_BANNED; unban lets them in', async () => {
    const app = withKeys()
    const openid = newOpenid('ban')
    const first = await login(openid, app)
    const second = await login(openid, app)
    const uid = first.user.id
    const banned = await admin(app, 'POST', `/users/${uid}/ban`, KEY_OPS, {
      json: { reason: 'spam' },
    })
    expect(banned.status, banned.text).toBe(200)
    expect(banned.body).toEqual({
      ban: { reason: 'spam', at: expect.any(Number), by: 'operator:ops' },
    })
    for (const { token } of [first, second]) {
      expectError(await call('GET', '/me', { token }, app), 401, 'SESSION_EXPIRED')
    }
    const again = await call('POST', '/auth/login', { json: { code: await codeFor(openid) } }, app)
    expectError(again, 403, 'USER_BANNED')
    expectError(await refreshWith(second.refreshToken, app), 403, 'USER_BANNED')

    const view = await admin(app, 'GET', `/users/${uid}`)
    expect(view.status, view.text).toBe(200)
    expect(view.body).toMatchObject({ uid, devices: [], ban: { reason: 'spam' } })

    const lifted = await admin(app, 'DELETE', `/users/${uid}/ban`)
    expect(lifted.body).toEqual({ ok: true, lifted: true })
    expect((await login(openid, app)).user.id).toBe(uid)
    expect((await admin(app, 'DELETE', `/users/${uid}/ban`)).body).toEqual({
      ok: true,
      lifted: false,
    })
  })

  it('with until: the 403 carries it, and at until the ban lifts itself', async () => {
    const clock = { now: Math.floor(Date.now() / 1000) }
    const app = withKeys({}, { now: () => clock.now })
    const openid = newOpenid('until')
    const { user, refreshToken } = await login(openid, app)
    const until = clock.now + 3600
    const res = await admin(app, 'POST', `/users/${user.id}/ban`, KEY_OPS, {
      json: { reason: 'cool off', until },
    })
    expect(res.body.ban).toMatchObject({ until })
    const refused = await call(
      'POST',
      '/auth/login',
      { json: { code: await codeFor(openid) } },
      app,
    )
    expect(refused.status).toBe(403)
    expect(refused.body.error).toMatchObject({ code: 'USER_BANNED', until })
    const refresh = await refreshWith(refreshToken, app)
    expect((refresh.body as any).error).toMatchObject({ code: 'USER_BANNED', until })
    clock.now = until
    expect((await login(openid, app)).user.id).toBe(user.id)
  })

  it('refuses a reason out of 1–200 characters and an until not in the future', async () => {
    const app = withKeys()
    const { user } = await login(newOpenid('bad'), app)
    const now = Math.floor(Date.now() / 1000)
    for (const json of [
      {},
      { reason: '' },
      { reason: 'x'.repeat(201) },
      { reason: 'ok', until: now - 1 },
      { reason: 'ok', until: 'tomorrow' },
    ]) {
      expectError(
        await admin(app, 'POST', `/users/${user.id}/ban`, KEY_OPS, { json }),
        400,
        'INVALID_REQUEST',
      )
    }
    expect(
      (await call('GET', '/me', { token: (await login(newOpenid(), app)).token }, app)).status,
    ).toBe(200)
  })

  it('an unknown user is 404 USER_NOT_FOUND', async () => {
    const app = withKeys()
    expectError(await admin(app, 'GET', '/users/u_nobody'), 404, 'USER_NOT_FOUND')
    expectError(
      await admin(app, 'POST', '/users/u_nobody/ban', KEY_OPS, { json: { reason: 'x' } }),
      404,
      'USER_NOT_FOUND',
    )
  })
})

describe('logging a user out', () => {
  it('ends every session, or one by its id (404 when not live)', async () => {
    const app = withKeys()
    const openid = newOpenid('out')
    const a = await login(openid, app)
    const b = await login(openid, app)
    const uid = a.user.id
    const view = await admin(app, 'GET', `/users/${uid}`)
    expect(view.body.devices).toHaveLength(2)
    const [newest] = view.body.devices
    expect((await admin(app, 'DELETE', `/users/${uid}/sessions/${newest.id}`)).body).toEqual({
      ok: true,
    })
    expectError(await call('GET', '/me', { token: b.token }, app), 401, 'SESSION_EXPIRED')
    expect((await call('GET', '/me', { token: a.token }, app)).status).toBe(200)
    expectError(
      await admin(app, 'DELETE', `/users/${uid}/sessions/${newest.id}`),
      404,
      'SESSION_NOT_FOUND',
    )
    expectError(await admin(app, 'DELETE', `/users/${uid}/sessions/nope`), 404, 'SESSION_NOT_FOUND')
    expect((await admin(app, 'POST', `/users/${uid}/logout`)).body).toEqual({
      ok: true,
      loggedOut: 1,
    })
    expectError(await call('GET', '/me', { token: a.token }, app), 401, 'SESSION_EXPIRED')
  })
})
