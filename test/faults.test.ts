import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app'
import { configFromEnv, type WxaBindings } from '../src/config'
import { defaultUserId } from '../src/hooks'
import { createCipher } from '../src/session/cipher'
import { kvSessionStore } from '../src/session/store'
import {
  call,
  codeFor,
  emulate,
  expectError,
  kvKeys,
  login,
  newOpenid,
  served,
  testEnv,
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
  const app = served(
    createApp({
      config: (env: WxaBindings) => ({
        ...configFromEnv(env),
        store: kvSessionStore(wrapped, createCipher(env.STORAGE_SECRET as string)),
      }),
    }),
  )
  return { app, fault }
}

describe('KV failing', () => {
  it('login: a failed session write is a 503 with no token, and earlier sessions survive', async () => {
    const { app, fault } = faultyKv(testEnv.SESSIONS)
    const openid = newOpenid()
    const earlier = await login(openid, app)
    fault.failing = (method, key) => method === 'put' && key.startsWith('session:')
    const res = await call('POST', '/auth/login', { json: { code: await codeFor(openid) } }, app)
    expectError(res, 503, 'STORAGE_UNAVAILABLE')
    expect(res.text).not.toContain('token')
    expect(res.headers.get('retry-after')).toBe('1')
    fault.failing = () => false
    expect(await kvKeys(`session:${earlier.user.id}:`)).toHaveLength(1)
    expect((await call('GET', '/me', { token: earlier.token }, app)).status).toBe(200)
  })

  it('login: a failed identity write leaves no session behind', async () => {
    const { app, fault } = faultyKv(testEnv.SESSIONS)
    const openid = newOpenid()
    fault.failing = (method, key) => method === 'put' && key.startsWith('identity:')
    const res = await call('POST', '/auth/login', { json: { code: await codeFor(openid) } }, app)
    expectError(res, 503, 'STORAGE_UNAVAILABLE')
    expect(await kvKeys(`session:${await defaultUserId(APP_ID, openid)}:`)).toEqual([])
  })

  it.each(['get', 'list'] as const)(
    'login: a failed %s is a 503 and writes no session',
    async (failing) => {
      const { app, fault } = faultyKv(testEnv.SESSIONS)
      const openid = newOpenid()
      fault.failing = (method) => method === failing
      const res = await call('POST', '/auth/login', { json: { code: await codeFor(openid) } }, app)
      expectError(res, 503, 'STORAGE_UNAVAILABLE')
      expect(await kvKeys(`session:${await defaultUserId(APP_ID, openid)}:`)).toEqual([])
    },
  )

  it('an authenticated request: a failed read is a 503, not a 401 or a 500', async () => {
    const { app, fault } = faultyKv(testEnv.SESSIONS)
    const { token } = await login(undefined, app)
    fault.failing = (method) => method === 'get'
    expectError(await call('GET', '/me', { token }, app), 503, 'STORAGE_UNAVAILABLE')
  })

  it('a session change whose write fails is a 503, and the data before it is kept', async () => {
    const { app, fault } = faultyKv(testEnv.SESSIONS)
    const { token } = await login(undefined, app)
    await call('PATCH', '/me/session', { token, json: { step: 1 } }, app)
    fault.failing = (method) => method === 'put'
    expectError(
      await call('PATCH', '/me/session', { token, json: { step: 2 } }, app),
      503,
      'STORAGE_UNAVAILABLE',
    )
    fault.failing = () => false
    expect((await call('GET', '/me', { token }, app)).body.session).toEqual({ step: 1 })
  })

  it('a logout whose delete fails is a 503, and the session stays whole', async () => {
    const { app, fault } = faultyKv(testEnv.SESSIONS)
    const { token } = await login(undefined, app)
    fault.failing = (method) => method === 'delete'
    expectError(await call('POST', '/auth/logout', { token }, app), 503, 'STORAGE_UNAVAILABLE')
    fault.failing = () => false
    expect((await call('GET', '/me', { token }, app)).status).toBe(200)
    expect((await call('POST', '/auth/logout', { token }, app)).status).toBe(200)
  })

  it('a refresh whose write fails is a 503, and the old token still works', async () => {
    const { app, fault } = faultyKv(testEnv.SESSIONS)
    const { token } = await login(undefined, app)
    fault.failing = (method) => method === 'put'
    expectError(await call('POST', '/auth/refresh', { token }, app), 503, 'STORAGE_UNAVAILABLE')
    fault.failing = () => false
    expect((await call('GET', '/me', { token }, app)).status).toBe(200)
  })
})

describe('WeChat failing', () => {
  it.each([
    ['busy', 503, 'WECHAT_UNAVAILABLE'],
    ['http500', 503, 'WECHAT_UNAVAILABLE'],
    ['html', 502, 'WECHAT_BAD_RESPONSE'],
    ['truncated', 502, 'WECHAT_BAD_RESPONSE'],
    ['hang', 504, 'WECHAT_TIMEOUT'],
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
  it('50 parallel logins of one user: 50 distinct sessions, then the cap, one identity', async () => {
    const openid = newOpenid()
    const codes = await Promise.all(Array.from({ length: 50 }, () => codeFor(openid)))
    const replies = await Promise.all(
      codes.map((code) => call('POST', '/auth/login', { json: { code } })),
    )
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200))
    const sids = new Set(replies.map((r) => JSON.parse(atob(r.body.token.split('.')[1])).sid))
    expect(sids.size).toBe(50)

    const last = await login(openid)
    const sessions = await kvKeys(`session:${last.user.id}:`)
    expect(sessions).toHaveLength(10)
    expect((await call('GET', '/me', { token: last.token })).status).toBe(200)
    const store = kvSessionStore(testEnv.SESSIONS, createCipher(testEnv.STORAGE_SECRET as string))
    expect(await store.getIdentity(APP_ID, openid)).toMatchObject({ uid: last.user.id })
  })

  it('parallel changes to one session: last write wins, nothing corrupt, no 5xx', async () => {
    const { token } = await login()
    await call('PATCH', '/me/session', { token, json: { base: true } })
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call('PATCH', '/me/session', { token, json: { [`k${i}`]: i } }),
      ),
    )
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200))
    const { session } = (await call('GET', '/me', { token })).body
    const candidates = replies.map((r) => JSON.stringify(r.body.session))
    expect(candidates).toContain(JSON.stringify(session))
    expect(session.base).toBe(true)
  })
})
