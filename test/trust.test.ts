// Trust under attack and faults (the review of 0.2): each describe is one
// finding, reproduced against workerd, KV, the session objects and the emulator.

import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { WxaBindings } from '../src/env'
import { defaultUserId } from '../src/hooks'
import { requireLogin } from '../src/middleware/require-login'
import { workersKv } from '../src/runtime/cloudflare/kv'
import type { UserSessions } from '../src/runtime/cloudflare/object'
import { hashSessionId, newSessionId } from '../src/session/ids'
import type { SessionRecord } from '../src/session/record'
import { createCipher } from '../src/storage/cipher'
import { sessionRecordKey } from '../src/storage/keys'
import { sealedKv } from '../src/storage/sealed-kv'
import { signToken } from '../src/token/jwt'
import { importKeyRing, parseSecrets } from '../src/token/keys'
import {
  appWith,
  call,
  codeFor,
  configError,
  configFromEnv,
  decodeJwt,
  emulate,
  expectError,
  kvKeys,
  login,
  newOpenid,
  openKv,
  PRODUCTION_SECRET,
  production,
  readAtEdge,
  refreshWith,
  served,
  testApp,
  testEnv,
  testIdentities,
  userData,
} from './helpers'
import { sign } from './pushes'

const APP_ID = 'wx00000000emulator'
const SECOND = 'wx0000000000second'

afterEach(() => vi.restoreAllMocks())

const namespace = () => testEnv.USER_SESSIONS as DurableObjectNamespace<UserSessions>
const objectOf = (uid: string) => namespace().get(namespace().idFromName(uid))

/** A clock the test moves. */
function clock() {
  const t = { now: Math.floor(Date.now() / 1000) }
  return { t, now: () => t.now }
}

const refresh = (refreshToken: string, app = appWith()) => refreshWith(refreshToken, app)
const write = (token: string, json: unknown, app = appWith()) =>
  call('PATCH', '/me/session', { token, json }, app)

/** The rows of `uid`'s object, as its SQLite table holds them. */
const rowsOf = (uid: string) =>
  runInDurableObject(objectOf(uid), (_instance, state) =>
    state.storage.sql
      .exec<{ id: string; record: string | null }>('SELECT id, record FROM sessions')
      .toArray(),
  )

describe('3. a logout is not lost to an object reset between its commit and the KV delete', () => {
  it('the retry alarm is set in the same step as the rule; the copy goes when it rings', async () => {
    const { token, user } = await login()
    await readAtEdge(token)
    expect(await kvKeys(`session:${user.id}:`)).toHaveLength(1)
    // The object dies as soon as it starts deleting the KV copy.
    await runInDurableObject(objectOf(user.id), (instance: UserSessions, state) => {
      const real = instance.replicaKv
      instance.replicaKv = {
        ...real,
        delete: async () => {
          // Reset after the commit is durable, before KV hears of the logout.
          await state.storage.sync()
          state.abort('reset while deleting the replica')
          return new Promise(() => {})
        },
      }
    })
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const res = await call('POST', '/auth/logout', { token })
    expectError(res, 503, 'STORAGE_OUTCOME_UNKNOWN')
    expect(res.headers.get('retry-after')).toBe('1')
    // Committed: the object says it is over.
    expectError(
      await call('GET', '/me', { token }, appWith({ SESSION_CONSISTENCY: 'strict' })),
      401,
      'SESSION_EXPIRED',
    )
    const alarm = await runInDurableObject(objectOf(user.id), (_i, state) =>
      state.storage.getAlarm(),
    )
    expect(alarm).not.toBeNull()
    expect((alarm as number) - Date.now()).toBeLessThanOrEqual(60_000)
    expect(await kvKeys(`session:${user.id}:`)).toHaveLength(1)
    expect(await runDurableObjectAlarm(objectOf(user.id))).toBe(true)
    expect(await kvKeys(`session:${user.id}:`)).toEqual([])
    // The SDK retries a logout: a logout of a session already over is a 200.
    const retried = await call('POST', '/auth/logout', { token }, appWith())
    expect([retried.status, retried.body]).toEqual([200, { ok: true }])
  })

  it('a reconstructed object with owed rows and no alarm arms one', async () => {
    const { token, user } = await login()
    await runInDurableObject(objectOf(user.id), async (_instance, state) => {
      // Its one session owes KV a copy.
      state.storage.sql.exec('UPDATE sessions SET replica = 1')
      await state.storage.deleteAlarm()
      await state.storage.sync()
      state.abort('reset')
    }).catch(() => {})
    // The next call constructs the object anew.
    expect(
      (await call('GET', '/me', { token }, appWith({ SESSION_CONSISTENCY: 'strict' }))).status,
    ).toBe(200)
    const alarm = await runInDurableObject(objectOf(user.id), (_i, state) =>
      state.storage.getAlarm(),
    )
    expect(alarm).not.toBeNull()
    expect((alarm as number) - Date.now()).toBeLessThanOrEqual(60_000)
  })

  it('an object that is not reached (overloaded) is 503 STORAGE_UNAVAILABLE: nothing was written', async () => {
    const overloaded = {
      idFromName: (name: string) => namespace().idFromName(name),
      get: () =>
        new Proxy(
          {},
          {
            get: () => () =>
              Promise.reject(
                Object.assign(new Error('Durable Object is overloaded.'), { overloaded: true }),
              ),
          },
        ),
    }
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const app = appWith({ USER_SESSIONS: overloaded as never })
    const res = await call(
      'POST',
      '/auth/login',
      { json: { code: await codeFor(newOpenid()) } },
      app,
    )
    expectError(res, 503, 'STORAGE_UNAVAILABLE')
  })
})

describe('an object of 0.3 (every session copied to KV, owed writes in a table) upgraded', () => {
  it('its sessions keep their copies: an end deletes them; an owed write is still written', async () => {
    const openid = newOpenid()
    const kept = await login(openid)
    const owed = await login(openid)
    // As 0.3 left it: both sessions in KV, the second's write still owed in table `replica`.
    const keys = [await readAtEdge(kept.token), await readAtEdge(owed.token)]
    const owedId = (keys[1] as string).split(':').at(-1) as string
    await runInDurableObject(objectOf(kept.user.id), async (_instance, state) => {
      const sql = state.storage.sql
      sql.exec('ALTER TABLE sessions DROP COLUMN replica')
      sql.exec('CREATE TABLE replica (id TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID')
      sql.exec('INSERT INTO replica (id, version) VALUES (?, 1)', owedId)
      await state.storage.deleteAlarm()
      await testEnv.SESSIONS.delete(keys[1] as string)
      await state.storage.sync()
      state.abort('upgrade')
    }).catch(() => {})
    // The edge still reads its copy; the object, made anew with this version, arms the owed write.
    expect((await call('GET', '/me', { token: kept.token }, appWith())).status).toBe(200)
    expect(await runDurableObjectAlarm(objectOf(kept.user.id))).toBe(true)
    expect(await testEnv.SESSIONS.get(keys[1] as string)).not.toBeNull()
    expect((await call('POST', '/auth/logout', { token: kept.token })).status).toBe(200)
    expect(await testEnv.SESSIONS.get(keys[0] as string)).toBeNull()
    const tables = await runInDurableObject(objectOf(kept.user.id), (_i, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'replica'").toArray(),
    )
    expect(tables).toEqual([])
  })

  it('its session_keys, all in meta, still decrypt; the next login keeps its key in its row', async () => {
    const openid = newOpenid()
    const first = await login(openid)
    const keys = () =>
      runInDurableObject(objectOf(first.user.id), (_i, state) => ({
        meta: state.storage.sql.exec("SELECT key FROM meta WHERE key LIKE 'key:%'").toArray()
          .length,
        rows: state.storage.sql
          .exec('SELECT id FROM sessions WHERE session_key IS NOT NULL')
          .toArray().length,
      }))
    // As 0.3 left it: no key columns in the sessions, the key in meta.
    await runInDurableObject(objectOf(first.user.id), async (_instance, state) => {
      const sql = state.storage.sql
      const [row] = sql
        .exec<{ slot: string; value: string }>(
          'SELECT key_slot AS slot, session_key AS value FROM sessions',
        )
        .toArray()
      sql.exec('ALTER TABLE sessions DROP COLUMN key_slot')
      sql.exec('ALTER TABLE sessions DROP COLUMN session_key')
      sql.exec('INSERT INTO meta (key, value) VALUES (?, ?)', `key:${row?.slot}`, row?.value)
      await state.storage.sync()
      state.abort('upgrade')
    }).catch(() => {})
    const decrypts = async () => {
      const sealed = await userData(openid, { nickName: 'Ada' })
      const json = { encryptedData: sealed.encryptedData, iv: sealed.iv }
      return (await call('POST', '/auth/decrypt', { token: first.token, json })).status
    }
    expect(await decrypts()).toBe(200)
    expect(await keys()).toEqual({ meta: 1, rows: 0 })
    await call('POST', `/__emulator/users/${openid}/rotate-session-key`)
    await login(openid)
    expect(await keys()).toEqual({ meta: 0, rows: 1 })
    expect(await decrypts()).toBe(200)
  })
})

describe('4. a refused stale write is not an ended session', () => {
  /** The Worker with a route whose handler waits for `release` before changing the session. */
  function gatedApp(vars: Partial<WxaBindings>) {
    const env = { ...testEnv, ...vars }
    const app = testApp()
    let release: () => void = () => {}
    let entered: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const inside = new Promise<void>((resolve) => (entered = resolve))
    app.patch('/slow', requireLogin(), async (c) => {
      entered()
      await gate
      c.var.session.set('stale', true)
      return c.json({ ok: true })
    })
    return { app: served(app, env), release: () => release(), inside }
  }

  it.each(['edge', 'strict'])(
    '%s: a write refused as SESSION_EXPIRED (replaced) leaves the new token working',
    async (mode) => {
      const { app, release, inside } = gatedApp({ SESSION_CONSISTENCY: mode })
      const { token: old, refreshToken } = await login(undefined, app)
      expect((await call('GET', '/me', { token: old }, app)).status).toBe(200)
      // The handler runs with the old token; meanwhile another isolate refreshes it.
      const slow = call('PATCH', '/slow', { token: old }, app)
      await inside
      const renewed = await refresh(refreshToken, appWith())
      expect(renewed.status).toBe(200)
      release()
      expectError(await slow, 401, 'SESSION_EXPIRED')
      const me = await call('GET', '/me', { token: renewed.body.token }, app)
      expect(me.status, me.text).toBe(200)
      expect(me.body.session).toEqual({})
      expect((await write(renewed.body.token, { fresh: 1 }, app)).status).toBe(200)
    },
  )
})

describe('5. a refresh whose answer was lost, or two at once, does not end the session', () => {
  it('the refresh token just replaced, within the grace, gets the same tokens again', async () => {
    const { t, now } = clock()
    const app = appWith({}, { now })
    const { token: old, refreshToken: first } = await login(undefined, app)
    const second = await refresh(first, app)
    expect(second.status).toBe(200)
    t.now += 10
    const retried = await refresh(first, app) // the answer to the first refresh was lost
    expect(retried.status, retried.text).toBe(200)
    expect(retried.body.token).toBe(second.body.token)
    expect(retried.body.refreshToken).toBe(second.body.refreshToken)
    expect((await call('GET', '/me', { token: retried.body.token }, app)).status).toBe(200)
    expectError(await write(old, { x: 1 }, app), 401, 'SESSION_EXPIRED')
  })

  it('outside the grace, reuse of a replaced refresh token ends the whole session', async () => {
    const { t, now } = clock()
    const app = appWith({}, { now })
    const { refreshToken: first } = await login(undefined, app)
    const second = await refresh(first, app)
    t.now += 31
    expectError(await refresh(first, app), 401, 'TOKEN_REVOKED')
    expectError(await call('GET', '/me', { token: second.body.token }, app), 401, 'SESSION_EXPIRED')
  })

  it('a refresh token two generations old is reuse even within the grace', async () => {
    const app = appWith()
    const { refreshToken: first } = await login(undefined, app)
    const second = await refresh(first, app)
    const third = await refresh(second.body.refreshToken, app)
    expect(third.status).toBe(200)
    expectError(await refresh(first, app), 401, 'TOKEN_REVOKED')
    expectError(await call('GET', '/me', { token: third.body.token }, app), 401, 'SESSION_EXPIRED')
  })

  it('a bad REFRESH_GRACE_SECONDS is CONFIG_INVALID', () => {
    expect(configError(production({ REFRESH_GRACE_SECONDS: '-1' }))).toContain(
      'REFRESH_GRACE_SECONDS',
    )
  })
})

describe('6. account deletion is whole under IDENTITY=unionid', () => {
  it('deletes every app’s identity and the link; afterwards the person is one new user', async () => {
    const app = appWith({ IDENTITY: 'unionid' })
    const [a, b] = [newOpenid('a'), newOpenid('b')]
    // First seen without a unionid: the user id comes from (appid, openid) of app A.
    const first = await loginTo(app, APP_ID, a)
    const unionid = `union-${crypto.randomUUID()}`
    await emulate(a, { unionid })
    await emulate(b, { unionid })
    const again = await loginTo(app, APP_ID, a)
    const there = await loginTo(app, SECOND, b)
    expect([again.user.id, there.user.id]).toEqual([first.user.id, first.user.id])

    const res = await call(
      'DELETE',
      '/auth/account',
      { token: again.token, json: { code: await codeFor(a) } },
      app,
    )
    expect(res.status, res.text).toBe(200)
    expect(await testIdentities().get(APP_ID, a, 'wechat')).toBeNull()
    expect(await testIdentities().get(SECOND, b, 'wechat')).toBeNull()
    expect(await testIdentities().linked(unionid, 'wechat')).toBeNull()
    expectError(await call('GET', '/me', { token: there.token }, app), 401, 'SESSION_EXPIRED')

    const viaB = await loginTo(app, SECOND, b)
    const viaA = await loginTo(app, APP_ID, a)
    expect(viaB.user.id).not.toBe(first.user.id)
    expect(viaA.user.id).toBe(viaB.user.id)
  })
})

async function loginTo(app: ReturnType<typeof appWith>, appId: string, openid: string) {
  const code = await codeFor(openid, { appId })
  const res = await call('POST', '/auth/login', { json: { code, appId } }, app)
  expect(res.status, res.text).toBe(200)
  return res.body
}

describe('7. the lower findings', () => {
  describe('session data: a nesting limit and a key-count limit, before commit', () => {
    const deep = (levels: number) => {
      let value: unknown = 1
      for (let i = 0; i < levels; i++) value = { a: value }
      return value
    }

    it('refuses data nested deeper than 32 levels with 413, and the session stays readable', async () => {
      const { token } = await login()
      expect((await write(token, { ok: deep(30) })).status).toBe(200)
      expectError(await write(token, { deep: deep(40) }), 413, 'SESSION_TOO_LARGE')
      // Past 64 levels the body itself is refused, before it is parsed.
      expectError(await write(token, { deep: deep(2000) }), 413, 'PAYLOAD_TOO_LARGE')
      const me = await call('GET', '/me', { token }, appWith({ SESSION_CONSISTENCY: 'strict' }))
      expect(me.status).toBe(200)
      expect(Object.keys(me.body.session)).toEqual(['ok'])
    })

    it('data nested thousands deep is 413 or 400, never a 500, as an array or an object', async () => {
      const { token } = await login()
      const headers = { 'Content-Type': 'application/json' }
      for (const body of [
        `{"deep":${'['.repeat(5000)}${']'.repeat(5000)}}`,
        `{"deep":${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}}`,
        `${'['.repeat(5000)}${']'.repeat(5000)}`,
        `${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}`,
      ]) {
        for (const type of ['application/json', 'application/vnd.wxa+json; charset=utf-8']) {
          const res = await call('PATCH', '/me/session', {
            token,
            body,
            headers: { 'Content-Type': type },
          })
          expect([400, 413], res.text).toContain(res.status)
          expect(res.body.error.code).toMatch(
            /^(SESSION_TOO_LARGE|PAYLOAD_TOO_LARGE|INVALID_JSON|INVALID_REQUEST)$/,
          )
        }
      }
      for (const path of ['/auth/login', '/auth/profile', '/auth/phone', '/auth/decrypt']) {
        const body = `{"code":${'['.repeat(5000)}${']'.repeat(5000)}}`
        const res = await call(path === '/auth/profile' ? 'PUT' : 'POST', path, {
          token,
          body,
          headers,
        })
        expect([400, 413, 422], `${path}: ${res.text}`).toContain(res.status)
      }
    })

    it('a push nested thousands deep is 413, never a 500', async () => {
      const app = served(testApp(), { ...testEnv, WECHAT_EVENT_AES_KEY: undefined })
      const token = testEnv.WECHAT_EVENT_TOKEN as string
      const ts = String(Math.floor(Date.now() / 1000))
      const nonce = String(crypto.getRandomValues(new Uint32Array(1))[0])
      const query = new URLSearchParams({
        signature: await sign(token, ts, nonce),
        timestamp: ts,
        nonce,
      })
      for (const body of [
        `{"ToUserName":"gh_x","Event":${'['.repeat(5000)}${']'.repeat(5000)}}`,
        `{"ToUserName":"gh_x","Event":${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}}`,
      ]) {
        const res = await call(
          'POST',
          `/wechat/events?${query}`,
          { body, headers: { 'Content-Type': 'application/json' } },
          app,
        )
        expectError(res, 413, 'PAYLOAD_TOO_LARGE')
      }
    })

    it("a hook's value nested thousands deep is answered, not a stack overflow", async () => {
      let user: Record<string, unknown> = { id: 'deep-user' }
      for (let i = 0; i < 5000; i++) user = { id: 'deep-user', inner: user }
      const app = served(testApp({ findOrCreateUser: () => user as { id: string } }))
      const res = await call(
        'POST',
        '/auth/login',
        { json: { code: await codeFor(newOpenid()) } },
        app,
      )
      expect(res.status).toBe(200)
      expect(res.body.user.id).toBe('deep-user')
    })

    it('refuses more than 1,000 keys in all, counting nested ones', async () => {
      const { token } = await login()
      const many = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`k${i}`, i]))
      expect((await write(token, many)).status).toBe(200)
      const more = {
        nested: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`n${i}`, 0])),
      }
      expectError(await write(token, more), 413, 'SESSION_TOO_LARGE')
      expect((await write(token, { k0: null })).status).toBe(200) // deleting still works
    })
  })

  it('unionid comes from code2Session only, never from encryptedData or rawData', async () => {
    const app = appWith({ IDENTITY: 'unionid' })
    const openid = newOpenid()
    await login(openid, app)
    const forged = `union-forged-${crypto.randomUUID()}`
    const sealed = await userData(openid, { nickName: 'x', unionId: forged })
    const code = await codeFor(openid)
    const res = await call(
      'POST',
      '/auth/login',
      { json: { code, encryptedData: sealed.encryptedData, iv: sealed.iv } },
      app,
    )
    expect(res.status, res.text).toBe(200)
    expect(res.body.user.unionid).toBeUndefined()
    expect((await testIdentities().get(APP_ID, openid, 'wechat'))?.unionid).toBeUndefined()
    const again = await userData(openid, { unionId: forged })
    const decrypted = await call(
      'POST',
      '/auth/decrypt',
      { token: res.body.token, json: { encryptedData: again.encryptedData, iv: again.iv } },
      app,
    )
    expect(decrypted.status).toBe(200)
    expect((await testIdentities().get(APP_ID, openid, 'wechat'))?.unionid).toBeUndefined()
    expect(await testIdentities().linked(forged, 'wechat')).toBeNull()
  })

  it.each([
    ['3 characters', 'abc'],
    ['31 characters', 'Vq3xT9mR2kLp8sWz4nYb7cHf1dJg6aE'],
    ['one character repeated', 'a'.repeat(32)],
    ['a placeholder', 'yourTokenHereExample0123456789ab'],
  ])('WECHAT_EVENT_TOKEN of %s is CONFIG_INVALID', (_what, token) => {
    const message = configError(production({ WECHAT_EVENT_TOKEN: token }))
    expect(message).toContain('WECHAT_EVENT_TOKEN')
    expect(message).not.toContain(token)
  })

  it('a generated WECHAT_EVENT_TOKEN of 32 letters and digits is accepted', () => {
    expect(
      configFromEnv(production({ WECHAT_EVENT_TOKEN: PRODUCTION_SECRET })).platformSettings.get(
        'wechat',
      ),
    ).not.toBeNull()
  })

  describe('tombstones', () => {
    it('an ended session’s row goes once its KV delete is confirmed; its token stays dead', async () => {
      const { token, refreshToken, user } = await login()
      const other = await login(user.openid)
      expect((await call('POST', '/auth/logout', { token })).status).toBe(200)
      const rows = await rowsOf(user.id)
      expect(rows).toHaveLength(1) // the other device only: no tombstone left
      expect(rows[0]?.record).not.toBeNull()
      for (const app of [appWith(), appWith({ SESSION_CONSISTENCY: 'strict' })]) {
        expectError(await call('GET', '/me', { token }, app), 401, 'SESSION_EXPIRED')
        expectError(await write(token, { back: 1 }, app), 401, 'SESSION_EXPIRED')
      }
      expectError(await refresh(refreshToken), 401, 'SESSION_EXPIRED')
      expect((await call('GET', '/me', { token: other.token })).status).toBe(200)
    })

    it('a tombstone stays while its KV delete is owed', async () => {
      const { token, user } = await login()
      await readAtEdge(token)
      await runInDurableObject(objectOf(user.id), (instance: UserSessions) => {
        instance.replicaKv = {
          ...instance.replicaKv,
          delete: () => Promise.reject(new Error('KV down')),
        }
      })
      vi.spyOn(console, 'error').mockImplementation(() => {})
      expect((await call('POST', '/auth/logout', { token })).status).toBe(200)
      expect((await rowsOf(user.id)).map((r) => r.record)).toEqual([null])
      // A failing delete is retried soon: deletes end sessions at the edge.
      const alarm = await runInDurableObject(objectOf(user.id), (_i, s) => s.storage.getAlarm())
      expect((alarm as number) - Date.now()).toBeLessThanOrEqual(10_000)
    })

    it('the retry of a failing KV delete backs off to at most a minute', async () => {
      const { token, user } = await login()
      await readAtEdge(token)
      await runInDurableObject(objectOf(user.id), (instance: UserSessions) => {
        instance.replicaKv = {
          ...instance.replicaKv,
          delete: () => Promise.reject(new Error('KV down')),
        }
      })
      vi.spyOn(console, 'error').mockImplementation(() => {})
      expect((await call('POST', '/auth/logout', { token })).status).toBe(200)
      for (let i = 0; i < 8; i++) await runDurableObjectAlarm(objectOf(user.id))
      const alarm = await runInDurableObject(objectOf(user.id), (_i, s) => s.storage.getAlarm())
      expect((alarm as number) - Date.now()).toBeLessThanOrEqual(60_000)
    })
  })

  it('DELETE /auth/account is rate-limited: each call spends a code2Session', async () => {
    const { token } = await login()
    const headers = { 'CF-Connecting-IP': '2001:db8:77::1' }
    const statuses: number[] = []
    for (let i = 0; i < 32; i++) {
      const res = await call('DELETE', '/auth/account', {
        token,
        headers,
        json: { code: 'not-a-code' },
      })
      statuses.push(res.status)
    }
    expect(statuses.slice(0, 30).every((s) => s === 403)).toBe(true)
    expect(statuses.at(-1)).toBe(429)
  })

  it('a custom log does not rebuild the configuration per request: the caches keep working', async () => {
    let reads = 0
    const kv = new Proxy(testEnv.SESSIONS, {
      get(target, prop) {
        const value = Reflect.get(target, prop)
        if (prop === 'get') {
          return (...args: [string]) => {
            if (String(args[0]).startsWith('session:')) reads++
            return value.apply(target, args)
          }
        }
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const env = { ...testEnv, SESSIONS: kv }
    const app = testApp({ log: { error: () => {}, warn: () => {} } })
    const fetcher = {
      fetch: async (input: string, init: RequestInit = {}) => app.request(input, init, env),
    }
    const { token } = await login(undefined, fetcher)
    for (let i = 0; i < 3; i++)
      expect((await call('GET', '/me', { token }, fetcher)).status).toBe(200)
    expect(reads).toBe(0) // login cached the record; the reads hit the isolate cache
  })

  describe('IDENTITY=unionid and pushes', () => {
    it('a revoke ends no session in any app; a cancellation forgets the user everywhere', async () => {
      const app = appWith({ IDENTITY: 'unionid', WECHAT_EVENT_AES_KEY: undefined })
      const [a, b] = [newOpenid('a'), newOpenid('b')]
      const unionid = `union-${crypto.randomUUID()}`
      await emulate(a, { unionid })
      await emulate(b, { unionid })
      const here = await loginTo(app, APP_ID, a)
      const there = await loginTo(app, SECOND, b)
      const push = async (openid: string, appId: string, event: string) => {
        const built = await call<{ query: string; body: string; contentType: string }>(
          'POST',
          '/__emulator/push',
          { json: { openid, appId, event } },
        )
        return call(
          'POST',
          `/wechat/events?${built.body.query}`,
          { body: built.body.body, headers: { 'Content-Type': built.body.contentType } },
          app,
        )
      }
      expect((await push(a, APP_ID, 'user_authorization_revoke')).text).toBe('success')
      expect((await call('GET', '/me', { token: here.token }, app)).status).toBe(200)
      expect((await call('GET', '/me', { token: there.token }, app)).status).toBe(200)
      expect(await testIdentities().get(SECOND, b, 'wechat')).not.toBeNull()

      expect((await push(b, SECOND, 'user_authorization_cancellation')).text).toBe('success')
      expectError(await call('GET', '/me', { token: there.token }, app), 401, 'SESSION_EXPIRED')
      expect(await testIdentities().get(SECOND, b, 'wechat')).toBeNull()
      expect(await testIdentities().linked(unionid, 'wechat')).toBeNull()
    })
  })

  describe('the 0.1 adoption does not trust one eventually consistent KV list', () => {
    /** A session as 0.1 wrote it straight to KV, for `uid`, and a token for it. */
    async function sessionOf01(uid: string, openid: string, createdAt: number) {
      const sid = newSessionId()
      const id = await hashSessionId(sid)
      const record: SessionRecord = {
        v: 1,
        uid,
        appId: APP_ID,
        openid,
        createdAt,
        createdAtMs: createdAt * 1000,
        refreshedAt: createdAt,
        expiresAt: createdAt + 30 * 24 * 3600,
        gen: 0,
        data: { from: '0.1' },
      }
      const kv = sealedKv(
        workersKv(testEnv.SESSIONS),
        createCipher(testEnv.STORAGE_SECRET as string),
      )
      await kv.put(sessionRecordKey(uid, id), record, 30 * 24 * 3600)
      const ring = await importKeyRing(parseSecrets(testEnv))
      const token = await signToken(
        ring,
        { sub: uid, sid, gen: 0, exp: record.expiresAt },
        { issuer: 'wxa-auth', audience: APP_ID, now: Math.floor(Date.now() / 1000) },
      )
      return { id, token }
    }

    it('logout-all sweeps session:<uid>: in KV, whatever the list missed', async () => {
      const { user, token } = await login()
      const missed = await sessionOf01(user.id, user.openid, Math.floor(Date.now() / 1000) - 86400)
      expect((await call('POST', '/auth/logout-all', { token })).status).toBe(200)
      expect(await kvKeys(`session:${user.id}:`)).toEqual([])
      expectError(
        await call('GET', '/me', { token: missed.token }, appWith()),
        401,
        'SESSION_EXPIRED',
      )
    })

    it('account deletion sweeps it too', async () => {
      const { user, token } = await login()
      await sessionOf01(user.id, user.openid, Math.floor(Date.now() / 1000) - 86400)
      const res = await call('DELETE', '/auth/account', {
        token,
        json: { code: await codeFor(user.openid) },
      })
      expect(res.status, res.text).toBe(200)
      expect(await kvKeys(`session:${user.id}:`)).toEqual([])
    })

    it('a 0.1 session the first list missed is adopted when a call meets it', async () => {
      const { user } = await login()
      const late = await sessionOf01(user.id, user.openid, Math.floor(Date.now() / 1000) - 86400)
      const res = await write(late.token, { adopted: true })
      expect(res.status, res.text).toBe(200)
      const me = await call(
        'GET',
        '/me',
        { token: late.token },
        appWith({ SESSION_CONSISTENCY: 'strict' }),
      )
      expect(me.body.session).toEqual({ from: '0.1', adopted: true })
    })

    it('never adopts a record made after the object was', async () => {
      const { user } = await login()
      const forged = await sessionOf01(user.id, user.openid, Math.floor(Date.now() / 1000) + 5)
      expectError(await write(forged.token, { x: 1 }), 401, 'SESSION_EXPIRED')
    })

    it('a token whose generation is newer than the object’s row is refused, and logged', async () => {
      const { user, token } = await login()
      const { sid } = decodeJwt(token).payload
      const ring = await importKeyRing(parseSecrets(testEnv))
      const now = Math.floor(Date.now() / 1000)
      const ahead = await signToken(
        ring,
        { sub: user.id, sid, gen: 5, exp: now + 3600 },
        { issuer: 'wxa-auth', audience: APP_ID, now },
      )
      const errors: string[] = []
      vi.spyOn(console, 'error').mockImplementation((m) => void errors.push(String(m)))
      expectError(await write(ahead, { x: 1 }), 401, 'SESSION_EXPIRED')
      expect(errors.join('\n')).toMatch(/generation/)
    })
  })

  it('log lines never carry the AppSecret’s value, whatever quotes it', async () => {
    const logged: string[] = []
    vi.spyOn(console, 'error').mockImplementation((...args) => void logged.push(args.join(' ')))
    vi.spyOn(console, 'warn').mockImplementation((...args) => void logged.push(args.join(' ')))
    const secret = 'f3a9c1d27be84e6a90c5d13f7a2b8e4c'
    const env = production({ WECHAT_APP_SECRET: undefined })
    // A relay injected as the upstream, failing with an error that quotes the secret.
    const app = testApp({
      upstream: () => ({
        wechat: {
          appSecret: secret,
          fetch: async () => {
            throw new Error(`connect ECONNREFUSED while sending ${secret} to the relay`)
          },
        },
      }),
    })
    const res = await app.request(
      '/auth/login',
      {
        method: 'POST',
        body: JSON.stringify({ code: 'abc' }),
        headers: { 'Content-Type': 'application/json' },
      },
      env,
    )
    expect(res.status).toBe(503)
    expect(logged.join('\n')).toContain('ECONNREFUSED')
    expect(logged.join('\n')).not.toContain(secret)
    expect(logged.join('\n')).not.toContain(secret.slice(0, 12))
  })

  describe('JWT_SECRETS and secrets with whitespace', () => {
    it('splits an entry at its first colon only', () => {
      const secret = `${PRODUCTION_SECRET}:with:colons`
      expect(parseSecrets({ JWT_SECRETS: `k1:${secret}` })).toEqual([{ kid: 'k1', secret }])
    })

    it.each([
      ['JWT_SECRET', { JWT_SECRET: `${PRODUCTION_SECRET} tail` }],
      ['JWT_SECRET', { JWT_SECRET: `${PRODUCTION_SECRET}\n` }],
      ['STORAGE_SECRET', { STORAGE_SECRET: `${PRODUCTION_SECRET}\tx` }],
      ['WECHAT_APP_SECRET', { WECHAT_APP_SECRET: '0123456789abcdef 0123456789abcdef' }],
    ])('refuses %s with whitespace inside', (name, vars) => {
      expect(configError(production(vars))).toContain(name)
    })
  })
})

// Keep imports used in some configurations.
void defaultUserId
void openKv
