import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { WxaBindings } from '../src/env'
import { defaultUserId } from '../src/hooks'
import { workersKv } from '../src/runtime/cloudflare/kv'
import type { UserSessions } from '../src/runtime/cloudflare/object'
import { createCipher } from '../src/storage/cipher'
import { sealedKv } from '../src/storage/sealed-kv'
import {
  call,
  codeFor,
  emulate,
  expectError,
  kvKeys,
  login,
  newOpenid,
  openKv,
  readAtEdge,
  refreshWith,
  served,
  testApp,
  testEnv,
  testIdentities,
} from './helpers'

const APP_ID = 'wx00000000emulator'
type Method = 'get' | 'put' | 'delete' | 'list'

/**
 * The real KV namespace, with the calls `failing` picks thrown as KV throws
 * them; a switch in tests turns the fault on and off.
 */
function faultyKv(kv: KVNamespace) {
  const fault = { failing: (_method: Method, _key: string) => false }
  const wrapped = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const key =
          typeof args[0] === 'string' ? args[0] : String((args[0] as { prefix?: string })?.prefix)
        if (fault.failing(prop as Method, key)) {
          return Promise.reject(new Error('KV PUT failed: 500 Internal Server Error'))
        }
        return value.apply(target, args)
      }
    },
  })
  return { wrapped, fault }
}

/** The Worker with its own KV calls (reads, identities) going through `faultyKv`. */
function faultyWorker() {
  const { wrapped, fault } = faultyKv(testEnv.SESSIONS)
  // No isolate cache: every read reaches KV, as the faults need.
  const app = served(testApp(), { ...testEnv, SESSIONS: wrapped, SESSION_CACHE_SECONDS: '0' })
  return { app, fault }
}

/** The Worker as a fresh isolate would run it: its own configuration and caches. */
const freshApp = (vars: Partial<WxaBindings> = {}) => {
  const env = { ...testEnv, ...vars }
  return served(testApp(), env)
}

const objectOf = (uid: string) =>
  (testEnv.USER_SESSIONS as DurableObjectNamespace<UserSessions>).get(
    (testEnv.USER_SESSIONS as DurableObjectNamespace<UserSessions>).idFromName(uid),
  )

/** Makes the KV replica writes of `uid`'s object fail while `fault.failing` says so. */
async function faultyReplica(uid: string) {
  const { wrapped, fault } = faultyKv(testEnv.SESSIONS)
  await runInDurableObject(objectOf(uid), (instance: UserSessions) => {
    instance.replicaKv = sealedKv(
      workersKv(wrapped),
      createCipher(testEnv.STORAGE_SECRET as string),
    )
  })
  return fault
}

describe("the Worker's KV failing", () => {
  it('login: a failed identity write is a 503 and leaves no session behind', async () => {
    const { app, fault } = faultyWorker()
    const openid = newOpenid()
    fault.failing = (method, key) => method === 'put' && key.startsWith('identity:')
    const res = await call('POST', '/auth/login', { json: { code: await codeFor(openid) } }, app)
    expectError(res, 503, 'STORAGE_UNAVAILABLE')
    expect(res.headers.get('retry-after')).toBe('1')
    expect(
      await objectOf(await defaultUserId(APP_ID, openid)).list(
        await defaultUserId(APP_ID, openid),
        0,
      ),
    ).toEqual([])
  })

  it('login: a failed identity read is a 503 and writes no session', async () => {
    const { app, fault } = faultyWorker()
    const openid = newOpenid()
    fault.failing = (method) => method === 'get'
    const res = await call('POST', '/auth/login', { json: { code: await codeFor(openid) } }, app)
    expectError(res, 503, 'STORAGE_UNAVAILABLE')
    expect(await kvKeys(`session:${await defaultUserId(APP_ID, openid)}:`)).toEqual([])
  })

  it('an authenticated request: a failed read is a 503, not a 401 or a 500', async () => {
    const { app, fault } = faultyWorker()
    const { token } = await login(undefined, app)
    fault.failing = (method) => method === 'get'
    expectError(await call('GET', '/me', { token }, app), 503, 'STORAGE_UNAVAILABLE')
  })
})

describe('the KV replica failing after the object committed', () => {
  it('a KV copy that fails is written at the next miss; reads fall back to the object meanwhile', async () => {
    const openid = newOpenid()
    const uid = await defaultUserId(APP_ID, openid)
    // The object's first call adopts nothing; then its replica writes fail.
    await objectOf(uid).list(uid, 0)
    const fault = await faultyReplica(uid)
    fault.failing = (method) => method === 'put'
    const { token, user } = await login(openid)
    // Another isolate misses in KV and asks the object, whose copy fails.
    expect((await call('GET', '/me', { token }, freshApp())).status).toBe(200)
    expect((await call('GET', '/me', { token }, freshApp())).status).toBe(200)
    expect(await kvKeys(`session:${user.id}:`)).toEqual([])
    fault.failing = () => false
    await readAtEdge(token, freshApp())
    expect(await kvKeys(`session:${user.id}:`)).toHaveLength(1)
  })

  it('a change whose KV write fails: the alarm writes the copy', async () => {
    const { token, user } = await login()
    const key = await readAtEdge(token)
    const fault = await faultyReplica(user.id)
    fault.failing = (method) => method === 'put'
    expect((await call('PATCH', '/me/session', { token, json: { late: 1 } })).status).toBe(200)
    expect((await openKv(key))?.data).toEqual({})
    fault.failing = () => false
    expect(await runDurableObjectAlarm(objectOf(user.id))).toBe(true)
    expect((await openKv(key))?.data).toEqual({ late: 1 })
  })

  it('a logout whose replica delete fails: 200, the session is over for the object, and the alarm deletes the copy', async () => {
    const { token, user } = await login()
    await readAtEdge(token)
    const fault = await faultyReplica(user.id)
    fault.failing = (method) => method === 'delete'
    expect((await call('POST', '/auth/logout', { token })).status).toBe(200)
    // Strict mode asks the object: over at once. The edge may read the stale copy until the retry.
    expectError(
      await call('GET', '/me', { token }, freshApp({ SESSION_CONSISTENCY: 'strict' })),
      401,
      'SESSION_EXPIRED',
    )
    expect(await kvKeys(`session:${user.id}:`)).toHaveLength(1)
    // A write from an isolate that still reads the copy is refused by the object.
    expectError(
      await call('PATCH', '/me/session', { token, json: { back: 1 } }, freshApp()),
      401,
      'SESSION_EXPIRED',
    )
    fault.failing = () => false
    await runDurableObjectAlarm(objectOf(user.id))
    expect(await kvKeys(`session:${user.id}:`)).toEqual([])
    expectError(await call('GET', '/me', { token }, freshApp()), 401, 'SESSION_EXPIRED')
  })
})

describe('the session object failing', () => {
  /** USER_SESSIONS whose objects throw as an overloaded or unreachable object does. */
  const broken = {
    idFromName: (name: string) => testEnv.USER_SESSIONS?.idFromName(name),
    get: () =>
      new Proxy(
        {},
        {
          // As workerd flags it: the call never reached the object.
          get: () => () =>
            Promise.reject(
              Object.assign(
                new Error('Durable Object is overloaded. Requests queued for too long.'),
                { overloaded: true, retryable: true },
              ),
            ),
        },
      ),
  } as unknown as DurableObjectNamespace<UserSessions>

  it('login: 503 STORAGE_UNAVAILABLE with Retry-After, no token, no session', async () => {
    const openid = newOpenid()
    const res = await call(
      'POST',
      '/auth/login',
      { json: { code: await codeFor(openid) } },
      freshApp({ USER_SESSIONS: broken }),
    )
    expectError(res, 503, 'STORAGE_UNAVAILABLE')
    expect(res.headers.get('retry-after')).toBe('1')
    expect(res.text).not.toContain('token')
    expect(await kvKeys(`session:${await defaultUserId(APP_ID, openid)}:`)).toEqual([])
  })

  it('a session change: 503, and the data before it is kept', async () => {
    const { token } = await login()
    await call('PATCH', '/me/session', { token, json: { step: 1 } })
    const res = await call(
      'PATCH',
      '/me/session',
      { token, json: { step: 2 } },
      freshApp({ USER_SESSIONS: broken }),
    )
    expectError(res, 503, 'STORAGE_UNAVAILABLE')
    expect((await call('GET', '/me', { token })).body.session).toEqual({ step: 1 })
  })

  it('logout and refresh: 503, and the session and its token stay as they were', async () => {
    const { token, refreshToken } = await login()
    const down = freshApp({ USER_SESSIONS: broken })
    expectError(await call('POST', '/auth/logout', { token }, down), 503, 'STORAGE_UNAVAILABLE')
    expectError(await refreshWith(refreshToken, down), 503, 'STORAGE_UNAVAILABLE')
    expect((await call('GET', '/me', { token })).status).toBe(200)
  })

  it('a read-only request with the session in KV does not need the object', async () => {
    const { token } = await login()
    await readAtEdge(token)
    expect((await call('GET', '/me', { token }, freshApp({ USER_SESSIONS: broken }))).status).toBe(
      200,
    )
  })
})

describe('WeChat failing', () => {
  it.each([
    ['busy', 503, 'UPSTREAM_UNAVAILABLE'],
    ['http500', 503, 'UPSTREAM_UNAVAILABLE'],
    ['html', 502, 'UPSTREAM_BAD_RESPONSE'],
    ['truncated', 502, 'UPSTREAM_BAD_RESPONSE'],
    ['hang', 504, 'UPSTREAM_TIMEOUT'],
  ])('%s: a clear %i %s, and nothing written', async (fault, status, code) => {
    const openid = newOpenid()
    await emulate(openid, { fault, hangMs: 2_000 })
    const res = await call('POST', '/auth/login', { json: { code: await codeFor(openid) } })
    expectError(res, status, code)
    expect(await kvKeys(`session:${await defaultUserId(APP_ID, openid)}:`)).toEqual([])
    expect(await kvKeys(`identity:${APP_ID}:${openid}`)).toEqual([])
  })
})

describe('concurrency', () => {
  it('50 parallel logins of one user: 50 tokens, exactly MAX_SESSIONS live sessions, one identity', async () => {
    const openid = newOpenid()
    const codes = await Promise.all(Array.from({ length: 50 }, () => codeFor(openid)))
    const replies = await Promise.all(
      codes.map((code) => call('POST', '/auth/login', { json: { code } })),
    )
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200))
    const sids = new Set(replies.map((r) => JSON.parse(atob(r.body.token.split('.')[1])).sid))
    expect(sids.size).toBe(50)
    const uid = replies[0]?.body.user.id
    // Exact, with no login after them: the object applies the cap in the same step as the login.
    expect(await objectOf(uid).list(uid, Math.floor(Date.now() / 1000))).toHaveLength(10)
    const live = await Promise.all(
      replies.map((r) =>
        call('GET', '/me', { token: r.body.token }, freshApp({ SESSION_CONSISTENCY: 'strict' })),
      ),
    )
    expect(live.filter((r) => r.status === 200)).toHaveLength(10)
    expect(await testIdentities().get(APP_ID, openid, 'wechat')).toMatchObject({ uid })
  })

  it('parallel changes to different keys of one session all land', async () => {
    const { token, user } = await login()
    await call('PATCH', '/me/session', { token, json: { base: true } })
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call('PATCH', '/me/session', { token, json: { [`k${i}`]: i } }, freshApp()),
      ),
    )
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200))
    const expected = Object.fromEntries([
      ['base', true],
      ...Array.from({ length: 20 }, (_, i) => [`k${i}`, i]),
    ])
    const strict = freshApp({ SESSION_CONSISTENCY: 'strict' })
    expect((await call('GET', '/me', { token }, strict)).body.session).toEqual(expected)
    const [key] = await kvKeys(`session:${user.id}:`)
    expect((await openKv(key?.name as string))?.data).toEqual(expected)
  })
})
