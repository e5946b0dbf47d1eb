// The operators' API on Node: two processes of the built server (dist/node.js)
// sharing one Redis. A ban set on one holds on the other at once (the Redis
// authority is read on every request: there is no replica to lag), login and
// refresh are 403 USER_BANNED with until, an expired ban lets them through,
// and the key guard answers 401 and 429 alike on every process.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorClient, emulatorClient } from '../../src/testing-client'
import { type RedisServer, startRedis } from './redis-server'
import { type Caller, caller, type NodeStack, startNodeStack } from './stack'

const KEY = 'cS3n1XzV8qL0mT5wR9pB2dK7hF4gJ6aY'

let redis: RedisServer
let stack: NodeStack
let emulator: EmulatorClient
let a: Caller
let b: Caller
const address = () =>
  `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::1`
const from = (at = address()) => ({ 'X-Forwarded-For': at })
const codeOf = (reply: { body: any }) => reply.body?.error?.code ?? null
const openid = () => `admin-${randomBytes(4).toString('hex')}`

beforeAll(async () => {
  redis = await startRedis()
  stack = await startNodeStack({
    servers: 2,
    redisUrl: redis.url,
    vars: { REDIS_URL: redis.url, TRUST_PROXY: '1', ADMIN_KEYS: `ops:${KEY}` },
  })
  ;[a, b] = stack.servers.map((server) => caller(server.url)) as [Caller, Caller]
  emulator = emulatorClient(stack.emulator.url)
}, 120_000)

afterAll(async () => {
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
  it('401 without a key or with a wrong one; 429 past 30 tries a minute from one address, on any process', async () => {
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
