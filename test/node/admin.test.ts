// The operators' API on Node: two processes of the built server (dist/node.js)
// sharing one Redis. A ban set on one holds on the other at once (the Redis
// authority is read on every request: there is no replica to lag), login and
// refresh are 403 USER_BANNED with until, an expired ban lets them through,
// and the key guard answers 401 and 429 alike on every process.
import { randomBytes } from 'node:crypto'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorClient, emulatorClient } from '../../src/testing-client'
import { type RedisServer, startRedis } from './redis-server'
import {
  APP_ID,
  type Caller,
  caller,
  clearOfWindowEdge,
  type NodeStack,
  startNodeStack,
} from './stack'

const KEY = 'cS3n1XzV8qL0mT5wR9pB2dK7hF4gJ6aY'

let redis: RedisServer
let stack: NodeStack
let db: ReturnType<typeof createClient>
let emulator: EmulatorClient
let a: Caller
let b: Caller
/** A third process without ADMIN_KEYS. */
let none: Caller
const address = () =>
  `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::1`
const from = (at = address()) => ({ 'X-Forwarded-For': at })
const codeOf = (reply: { body: any }) => reply.body?.error?.code ?? null
const openid = () => `admin-${randomBytes(4).toString('hex')}`

beforeAll(async () => {
  redis = await startRedis()
  stack = await startNodeStack({
    servers: 3,
    redisUrl: redis.url,
    vars: { REDIS_URL: redis.url, TRUST_PROXY: '1', ADMIN_KEYS: `ops:${KEY}` },
    perServer: (i): Record<string, string> => (i === 2 ? { ADMIN_KEYS: '' } : {}),
  })
  ;[a, b, none] = stack.servers.map((server) => caller(server.url)) as [Caller, Caller, Caller]
  emulator = emulatorClient(stack.emulator.url)
  db = createClient({ url: redis.url })
  await db.connect()
}, 120_000)

afterAll(async () => {
  await db?.close()
  await stack?.dispose()
  await redis?.dispose()
})

async function loginAt(at: Caller, user: string) {
  const code = await emulator.loginCode(user)
  return at('/auth/login', { method: 'POST', json: { code }, headers: from() })
}

async function loggedIn(at: Caller, user: string) {
  const res = await loginAt(at, user)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body as { token: string; refreshToken: string; user: { id: string } }
}

const operator = (at: Caller, path: string, init: { method?: string; json?: unknown } = {}) =>
  at(`/admin/api${path}`, { ...init, headers: { ...from(), Authorization: `Bearer ${KEY}` } })

describe('bans across two processes', () => {
  it('a ban set on A ends the sessions B serves at once; login and refresh 403 on both', async () => {
    const user = openid()
    const one = await loggedIn(a, user)
    const two = await loggedIn(b, user)
    expect((await b('/me', { token: one.token })).status).toBe(200)
    const ban = await operator(a, `/users/${one.user.id}/ban`, {
      method: 'POST',
      json: { reason: 'abuse' },
    })
    expect(ban.status, JSON.stringify(ban.body)).toBe(200)
    for (const at of [a, b]) {
      for (const token of [one.token, two.token]) {
        expect(codeOf(await at('/me', { token }))).toBe('SESSION_EXPIRED')
      }
      const login = await loginAt(at, user)
      expect([login.status, codeOf(login)]).toEqual([403, 'USER_BANNED'])
      const refresh = await at('/auth/refresh', {
        method: 'POST',
        json: { refreshToken: two.refreshToken },
      })
      expect([refresh.status, codeOf(refresh)]).toEqual([403, 'USER_BANNED'])
    }
    expect((await operator(b, `/users/${one.user.id}/ban`, { method: 'DELETE' })).body).toEqual({
      ok: true,
      lifted: true,
    })
    expect((await loggedIn(a, user)).user.id).toBe(one.user.id)
  })

  it('with until the 403 carries it, and once it passed login and refresh go through', async () => {
    const user = openid()
    const { user: who } = await loggedIn(a, user)
    const until = Math.floor(Date.now() / 1000) + 2
    expect(
      (await operator(b, `/users/${who.id}/ban`, { method: 'POST', json: { reason: 'x', until } }))
        .status,
    ).toBe(200)
    const refused = await loginAt(a, user)
    expect(refused.status).toBe(403)
    expect(refused.body.error).toMatchObject({ code: 'USER_BANNED', until })
    await new Promise((resolve) => setTimeout(resolve, until * 1000 - Date.now() + 50))
    const back = await loggedIn(b, user)
    const refreshed = await a('/auth/refresh', {
      method: 'POST',
      json: { refreshToken: back.refreshToken },
    })
    expect(refreshed.status).toBe(200)
  })
})

describe('the key guard on Node', () => {
  it('without ADMIN_KEYS the /admin tree is 404 NOT_FOUND, key or not', async () => {
    for (const path of ['/admin', '/admin/api/audit', '/admin/api/users?q=x']) {
      const res = await none(path, { headers: { ...from(), Authorization: `Bearer ${KEY}` } })
      expect([res.status, codeOf(res)], path).toEqual([404, 'NOT_FOUND'])
    }
  })

  it('401 without a key or with a wrong one; 429 past 30 tries a minute from one address, on any process', async () => {
    await clearOfWindowEdge()
    const at = address()
    const guess = (server: Caller, key: string | null) =>
      server('/admin/api/audit', {
        headers: { ...from(at), ...(key ? { Authorization: `Bearer ${key}` } : {}) },
      })
    const missing = await guess(a, null)
    expect([missing.status, codeOf(missing)]).toEqual([401, 'ADMIN_KEY_INVALID'])
    for (let i = 1; i < 30; i++)
      expect((await guess(i % 2 ? b : a, `${KEY.slice(1)}x`)).status).toBe(401)
    const limited = await guess(b, KEY)
    expect([limited.status, codeOf(limited)]).toEqual([429, 'RATE_LIMITED'])
    expect((await operator(a, '/audit')).status).toBe(200)
  })
})

describe('the directory in Redis through the admin API', () => {
  it("finds by id and openid, and an operator's deletion leaves what the user's own does", async () => {
    const remains = async (uid: string, user: string) => ({
      found: (await operator(a, `/users?q=${user}`)).body,
      byId: (await operator(b, `/users?q=${uid}`)).body,
      view: (await operator(a, `/users/${uid}`)).status,
      identity: await db.exists(`wxa:identity:${APP_ID}:${user}`),
      // What is left under the user's hash tag, by kind (the sessions' tombstones, say).
      keys: (await db.keys(`wxa:{${encodeURIComponent(uid)}}:*`))
        .map((key) => key.slice(key.indexOf('}:') + 2))
        .sort(),
    })
    const [self, other] = [openid(), openid()]
    const mine = await loggedIn(a, self)
    const theirs = await loggedIn(b, other)
    for (const { token } of [mine, theirs]) {
      const named = await a('/auth/profile', {
        method: 'PUT',
        token,
        json: { nickname: 'Someone' },
      })
      expect(named.status).toBe(200)
    }
    const found = await operator(b, `/users?q=${other}`)
    expect(found.body.users).toEqual([
      {
        uid: theirs.user.id,
        identities: [{ platform: 'wechat', appId: APP_ID, openid: other }],
        phone: false,
      },
    ])
    expect((await operator(a, `/users?q=${theirs.user.id}`)).body).toEqual(found.body)
    const code = await emulator.loginCode(self)
    const own = await b('/auth/account', { method: 'DELETE', token: mine.token, json: { code } })
    expect(own.status, JSON.stringify(own.body)).toBe(200)
    expect((await operator(a, `/users/${theirs.user.id}`, { method: 'DELETE' })).body).toEqual({
      ok: true,
    })
    const left = await remains(mine.user.id, self)
    expect(left).toMatchObject({
      found: { users: [] },
      byId: { users: [] },
      view: 404,
      identity: 0,
    })
    expect(left.keys).not.toContain('profile')
    expect(await remains(theirs.user.id, other)).toEqual(left)
    expect(codeOf(await b('/me', { token: theirs.token }))).toBe('SESSION_EXPIRED')
  })
})
