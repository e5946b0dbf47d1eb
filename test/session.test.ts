import { runInDurableObject } from 'cloudflare:test'
import { Hono } from 'hono'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { emulatorUpstream } from '../src/emulator/upstream'
import type { DefaultUser } from '../src/hooks'
import { requireLogin } from '../src/middleware/require-login'
import type { WxaEnv, WxaVariables } from '../src/middleware/session'
import type { UserSessions } from '../src/runtime/cloudflare/object'
import { cloudflare } from '../src/runtime/cloudflare/runtime'
import type { Session } from '../src/session/session'
import { wxaAuth } from '../src/wxa-auth'
import {
  call,
  countedEnv,
  expectError,
  kvKeys,
  login,
  openKv,
  readAtEdge,
  served,
  testApp,
  testAuth,
  testEnv,
} from './helpers'

const objectOf = (uid: string) => {
  const namespace = testEnv.USER_SESSIONS as DurableObjectNamespace<UserSessions>
  return namespace.get(namespace.idFromName(uid))
}

describe('the session middleware', () => {
  it('keeps session data set in one request for the next', async () => {
    const { token } = await login()
    const patch = await call('PATCH', '/me/session', {
      token,
      json: { cart: [1, 2], theme: 'dark' },
    })
    expect(patch.status, patch.text).toBe(200)
    expect(patch.body).toEqual({ session: { cart: [1, 2], theme: 'dark' } })
    const me = await call('GET', '/me', { token })
    expect(me.body.session).toEqual({ cart: [1, 2], theme: 'dark' })

    await call('PATCH', '/me/session', { token, json: { theme: null } })
    expect((await call('GET', '/me', { token })).body.session).toEqual({ cart: [1, 2] })
  })

  it('a read-only request: one KV read, no write, no object call; a change: one object call', async () => {
    const { env, counts, objects } = countedEnv()
    const app = served(testApp(), env)
    const { token, user } = await login(undefined, app)
    await readAtEdge(token, app)
    const before = await kvKeys(`session:${user.id}:`)
    Object.assign(counts, { get: 0, put: 0, delete: 0, list: 0 })
    objects.calls = 0

    expect((await call('GET', '/me', { token }, app)).status).toBe(200)
    expect(counts).toEqual({ get: 1, put: 0, delete: 0, list: 0 })
    expect(objects.calls).toBe(0)
    // A write would have moved the expiration.
    expect(await kvKeys(`session:${user.id}:`)).toEqual(before)

    await call('PATCH', '/me/session', { token, json: {} }, app)
    expect(objects.calls).toBe(0)
    await call('PATCH', '/me/session', { token, json: { a: 1 } }, app)
    expect(objects.calls).toBe(1)
    expect(counts.put).toBe(0) // the object writes the replica, not the Worker
    const [key] = await kvKeys(`session:${user.id}:`)
    expect((await openKv(key?.name as string))?.data).toEqual({ a: 1 })
  })

  it('logs in with 1 object call, 1 KV read and 1 KV write by the Worker (the identity)', async () => {
    const { env, counts, objects } = countedEnv()
    const app = served(testApp(), env)
    const { openid, user } = await login(undefined, app)
    expect(counts).toEqual({ get: 1, put: 1, delete: 0, list: 0 })
    expect(objects.calls).toBe(1)
    // The session's KV copy is written only once the edge asks for it.
    expect(await kvKeys(`session:${user.id}:`)).toEqual([])
    // The same session_key again: the identity is not rewritten.
    await login(openid, app)
    expect(counts).toEqual({ get: 2, put: 1, delete: 0, list: 0 })
    expect(objects.calls).toBe(2)
    // A new session_key (WeChat rotates it at a login) goes to the object with
    // the session, in the same call: still no identity write, so a returning
    // user's login writes no KV at all.
    await call('POST', `/__emulator/users/${openid}/rotate-session-key`)
    await login(openid, app)
    expect(counts).toEqual({ get: 3, put: 1, delete: 0, list: 0 })
    expect(objects.calls).toBe(3)
    expect(await kvKeys(`session:${user.id}:`)).toEqual([])
  })

  it("a returning user's login: no KV write, one SQLite row (the session, with its session_key), no alarm set", async () => {
    const { env, counts } = countedEnv()
    const app = served(testApp(), env)
    const { openid, user } = await login(undefined, app)
    await readAtEdge((await login(openid, app)).token)
    const used = { rows: 0, alarms: 0 }
    await runInDurableObject(objectOf(user.id), (_instance, state) => {
      const { sql } = state.storage
      const exec = sql.exec.bind(sql)
      sql.exec = ((query: string, ...bindings: unknown[]) => {
        const cursor = exec(query, ...bindings)
        queueMicrotask(() => (used.rows += cursor.rowsWritten))
        return cursor
      }) as typeof sql.exec
      const setAlarm = state.storage.setAlarm.bind(state.storage)
      state.storage.setAlarm = (...args) => {
        used.alarms++
        return setAlarm(...args)
      }
    })
    Object.assign(counts, { get: 0, put: 0, delete: 0, list: 0 })
    await call('POST', `/__emulator/users/${openid}/rotate-session-key`)
    await login(openid, app)
    expect(counts).toEqual({ get: 1, put: 0, delete: 0, list: 0 })
    expect(used).toEqual({ rows: 1, alarms: 0 })
    expect(await kvKeys(`session:${user.id}:`)).toHaveLength(1)
  })

  it('gives anonymous requests a null user and an empty session that is never written', async () => {
    const { env, counts } = countedEnv()
    const app = new Hono<WxaEnv>()
    app.use(wxaAuth({ runtime: cloudflare() }).middleware)
    app.get('/', (c) => {
      c.var.session.set('x', 1)
      return c.json({ user: c.var.user, active: c.var.session.active })
    })
    const res = await call('GET', '/', {}, served(app, env))
    expect(res.body).toEqual({ user: null, active: false })
    expect(counts).toEqual({ get: 0, put: 0, delete: 0, list: 0 })
  })

  it('does not write the session back when the handler failed', async () => {
    const { token } = await login()
    const app = new Hono<WxaEnv>()
    app.use(wxaAuth({ runtime: cloudflare(), upstream: emulatorUpstream() }).middleware)
    app.get('/fail', (c) => {
      c.var.session.set('half', 'done')
      throw new Error('boom')
    })
    app.onError((_err, c) => c.json({ failed: true }, 500))
    expect((await call('GET', '/fail', { token }, served(app))).status).toBe(500)
    expect((await call('GET', '/me', { token })).body.session).toEqual({})
  })

  it('exports typed context variables', () => {
    expectTypeOf<WxaVariables['user']>().toEqualTypeOf<DefaultUser | null>()
    expectTypeOf<WxaVariables['session']>().toEqualTypeOf<Session>()
    expectTypeOf<WxaEnv<{ id: string; name: string }>['Variables']['user']>().toEqualTypeOf<{
      id: string
      name: string
    } | null>()
  })
})

describe('POST /auth/logout', () => {
  it('deletes the session: the token is dead afterwards', async () => {
    const { token, user } = await login()
    const other = await login(user.openid)
    await readAtEdge(token)
    const kept = await readAtEdge(other.token)
    const res = await call('POST', '/auth/logout', { token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true })
    expectError(await call('GET', '/me', { token }), 401, 'SESSION_EXPIRED')
    // A logout again (a client's retry) is ok: the session is over either way.
    expect((await call('POST', '/auth/logout', { token })).body).toEqual({ ok: true })
    // The user's other device stays logged in.
    expect((await call('GET', '/me', { token: other.token })).status).toBe(200)
    expect((await kvKeys(`session:${user.id}:`)).map((k) => k.name)).toEqual([kept])
  })

  it('needs a login', async () => {
    expectError(await call('POST', '/auth/logout'), 401, 'AUTH_REQUIRED')
  })
})

describe('requireLogin', () => {
  it('answers anonymous requests with 401, a JSON error and a challenge; the handler never runs', async () => {
    let ran = 0
    const app = new Hono<WxaEnv>()
    app.use(testAuth().middleware)
    app.get('/secret', requireLogin(), (c) => {
      ran++
      return c.text('secret')
    })
    app.onError((await import('../src/middleware/on-error')).onError)
    const res = await call('GET', '/secret', {}, served(app))
    expectError(res, 401, 'AUTH_REQUIRED')
    expect(res.headers.get('www-authenticate')).toBe('JWT realm="wxa-auth"')
    expect(ran).toBe(0)
  })

  it('fails closed without the session middleware', async () => {
    const app = new Hono()
    app.get('/secret', requireLogin(), (c) => c.text('secret'))
    app.onError((await import('../src/middleware/on-error')).onError)
    expectError(await call('GET', '/secret', {}, served(app)), 401, 'AUTH_REQUIRED')
  })
})

describe('routes', () => {
  it('answers /healthz', async () => {
    const res = await call('GET', '/healthz')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true })
  })

  it('answers unknown routes with a JSON 404', async () => {
    expectError(await call('GET', '/nope'), 404, 'NOT_FOUND')
  })
})

describe('session data', () => {
  it('keeps a key named __proto__ as plain data', async () => {
    const { token } = await login()
    const res = await call('PATCH', '/me/session', {
      token,
      body: '{"__proto__":{"admin":true},"a":1}',
      headers: { 'Content-Type': 'application/json' },
    })
    expect(res.status).toBe(200)
    const me = await call('GET', '/me', { token })
    expect(me.text).toContain('"__proto__":{"admin":true}')
    expect(me.body.session.a).toBe(1)
  })
})

describe('session data has a size limit (review of 0.1, finding 2)', () => {
  it('answers 413 SESSION_TOO_LARGE past MAX_SESSION_BYTES and keeps the session as it was', async () => {
    const { token } = await login()
    const chunk = 'x'.repeat(6000)
    expect((await call('PATCH', '/me/session', { token, json: { a: chunk } })).status).toBe(200)
    expect((await call('PATCH', '/me/session', { token, json: { b: chunk } })).status).toBe(200)
    const res = await call('PATCH', '/me/session', { token, json: { c: chunk } })
    expectError(res, 413, 'SESSION_TOO_LARGE')
    const me = await call('GET', '/me', { token })
    expect(Object.keys(me.body.session)).toEqual(['a', 'b'])
    // Deleting still works on a session at the limit.
    expect((await call('PATCH', '/me/session', { token, json: { a: null } })).status).toBe(200)
  })

  it('takes MAX_SESSION_BYTES from the environment', async () => {
    const env = { ...testEnv, MAX_SESSION_BYTES: '100' }
    const app = served(testApp(), env)
    const { token } = await login(undefined, app)
    expect(
      (await call('PATCH', '/me/session', { token, json: { a: 'x'.repeat(50) } }, app)).status,
    ).toBe(200)
    expectError(
      await call('PATCH', '/me/session', { token, json: { b: 'x'.repeat(50) } }, app),
      413,
      'SESSION_TOO_LARGE',
    )
  })
})
