// The operators' API on Workers: the key guard (absent, wrong, revoked,
// rate-limited, /admin 404 without ADMIN_KEYS), bans through the API (every
// session ends, login and refresh 403 with until, the ban lifts itself), and
// what an operator may do to a user.
import { describe, expect, it } from 'vitest'
import type { WxaBindings } from '../src/env'
import { d1Directory } from '../src/runtime/cloudflare/d1'
import {
  appWith,
  call,
  codeFor,
  emulate,
  expectError,
  type Fetcher,
  login,
  newOpenid,
  phoneCode,
  randomAddress,
  refreshWith,
  testEnv,
  testIdentities,
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

describe('the directory and the audit log (D1) through the admin API', () => {
  const appId = String(testEnv.WECHAT_APP_ID).split(/\s+/)[0] as string
  const db = testEnv.DB as D1Database
  const directory = d1Directory(db)

  async function phoneLogin(openid: string, phone: string, app: Fetcher) {
    const code = await codeFor(openid)
    const res = await call(
      'POST',
      '/auth/login',
      { json: { code, phoneCode: await phoneCode(openid, phone) } },
      app,
    )
    expect(res.status, res.text).toBe(200)
    return res.body as { token: string; user: { id: string } }
  }

  it('finds a user by id, openid, unionid and phone number; nothing once an operator deleted them', async () => {
    const app = withKeys()
    const openid = newOpenid('find')
    const unionid = `union-${crypto.randomUUID()}`
    await emulate(openid, { unionid })
    const phone = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`
    const { user } = await phoneLogin(openid, phone, app)
    for (const q of [user.id, openid, unionid, phone, `+86 ${phone}`]) {
      const res = await admin(app, 'GET', `/users?q=${encodeURIComponent(q)}`)
      expect(res.status, res.text).toBe(200)
      expect(res.body.users, q).toEqual([
        {
          uid: user.id,
          identities: [{ platform: 'wechat', appId, openid, unionid }],
          phone: true,
        },
      ])
    }
    expect((await admin(app, 'DELETE', `/users/${user.id}`)).body).toEqual({ ok: true })
    for (const q of [user.id, openid, unionid, phone]) {
      expect((await admin(app, 'GET', `/users?q=${encodeURIComponent(q)}`)).body, q).toEqual({
        users: [],
      })
    }
  })

  it("an operator's deletion leaves what the user's own does: no directory, identity, session or profile", async () => {
    const app = withKeys()
    const remains = async (uid: string, openid: string) => ({
      directory: await directory.get(uid),
      identity: await testIdentities().get(appId, openid, 'wechat'),
      view: (await admin(app, 'GET', `/users/${uid}`)).status,
      found: (await admin(app, 'GET', `/users?q=${openid}`)).body,
    })
    const [self, other] = [newOpenid('self'), newOpenid('other')]
    const mine = await login(self, app)
    const theirs = await login(other, app)
    for (const { token } of [mine, theirs]) {
      const named = await call(
        'PUT',
        '/auth/profile',
        { token, json: { nickname: 'Someone' } },
        app,
      )
      expect(named.status, named.text).toBe(200)
    }
    expect((await remains(theirs.user.id, other)).identity).not.toBeNull()
    const own = await call(
      'DELETE',
      '/auth/account',
      { token: mine.token, json: { code: await codeFor(self) } },
      app,
    )
    expect(own.status, own.text).toBe(200)
    expect((await admin(app, 'DELETE', `/users/${theirs.user.id}`)).body).toEqual({ ok: true })
    const left = await remains(mine.user.id, self)
    expect(left).toEqual({ directory: null, identity: null, view: 404, found: { users: [] } })
    expect(await remains(theirs.user.id, other)).toEqual(left)
    expectError(await call('GET', '/me', { token: theirs.token }, app), 401, 'SESSION_EXPIRED')
    const back = await login(other, app)
    expect((await call('GET', '/auth/profile', { token: back.token }, app)).body).toEqual({
      profile: { nickname: null, avatarUrl: null },
    })
  })

  it('reads the audit log of a user, and exports it as NDJSON', async () => {
    const app = withKeys()
    const { user } = await login(newOpenid('log'), app)
    await admin(app, 'POST', `/users/${user.id}/ban`, KEY_OPS, { json: { reason: 'spam' } })
    await admin(app, 'DELETE', `/users/${user.id}/ban`)
    let records: any[] = []
    for (let i = 0; i < 50 && records.length < 3; i++) {
      records = (await admin(app, 'GET', `/audit?user=${user.id}`)).body.records
      if (records.length < 3) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(records.map((r) => [r.type, r.actor])).toEqual([
      ['login', 'user'],
      ['ban', 'operator:ops'],
      ['unban', 'operator:ops'],
    ])
    const exported = await admin(app, 'GET', `/audit?user=${user.id}&format=ndjson`)
    expect(exported.headers.get('Content-Type')).toBe('application/x-ndjson')
    expect(
      exported.text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual(records)
  })
})

describe("the user's own copy on Workers", () => {
  it('answers what is kept of the user, never a session key, and is rate-limited per user', async () => {
    const app = withKeys()
    const openid = newOpenid('copy')
    const { token, user } = await login(openid, app)
    await call('PATCH', '/me/session', { token, json: { cart: 2 } }, app)
    const res = await call('GET', '/auth/account/export', { token }, app)
    expect(res.status, res.text).toBe(200)
    expect(res.body).toMatchObject({
      uid: user.id,
      identities: [{ platform: 'wechat', openid }],
      session: { cart: 2 },
      ban: null,
    })
    expect(res.body.devices).toEqual([expect.objectContaining({ current: true })])
    expect(res.text).not.toMatch(/session_?key/i)
    const statuses: number[] = []
    for (let i = 0; i < 30; i++) {
      statuses.push((await call('GET', '/auth/account/export', { token }, app)).status)
    }
    expect(statuses.at(-1)).toBe(429)
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(28)
  })
})

describe('a ban holds at every door', () => {
  it('a PC scan-to-login confirmed before the ban gets no session after it', async () => {
    const app = withKeys()
    const phone = await login(newOpenid('scan'), app)
    const created = await call('POST', '/auth/scan', { json: {} }, app)
    expect(created.status, created.text).toBe(200)
    const { ticket } = created.body
    const confirmed = await call(
      'POST',
      `/auth/scan/${ticket}/confirm`,
      { token: phone.token },
      app,
    )
    expect(confirmed.status, confirmed.text).toBe(200)
    await admin(app, 'POST', `/users/${phone.user.id}/ban`, KEY_OPS, { json: { reason: 'x' } })
    const polled = await call('GET', `/auth/scan/${ticket}`, {}, app)
    expect(polled.status).toBeGreaterThanOrEqual(400)
    expect(polled.body.token).toBeUndefined()
    expect(['SCAN_TICKET_EXPIRED', 'USER_BANNED']).toContain(polled.body.error.code)
  })
})
