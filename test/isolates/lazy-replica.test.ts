// The KV replica is written lazily: a login writes no copy of its session;
// the first isolate that misses in KV asks the object, which writes one; from
// then on every change rewrites it, and an end deletes it. Several isolates
// share one KV namespace and one namespace of objects, their session caches
// off, so that each read shows what KV holds.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashSessionId } from '../../src/session/ids'
import { sessionRecordKey } from '../../src/storage/keys'
import { type Isolate, loginAt, startIsolates } from './harness'

let mf: Miniflare
let dispose: () => Promise<void>
let a: Isolate
let b: Isolate
let c: Isolate
let strict: Isolate
let n = 0
const openid = () => `lazy-${++n}-${Math.random().toString(36).slice(2, 8)}`

beforeAll(async () => {
  const uncached = { SESSION_CACHE_SECONDS: '0' }
  let isolates: Isolate[]
  ;({ isolates, mf, dispose } = await startIsolates([
    uncached,
    uncached,
    uncached,
    { ...uncached, SESSION_CONSISTENCY: 'strict' },
  ]))
  ;[a, b, c, strict] = isolates as [Isolate, Isolate, Isolate, Isolate]
}, 60_000)
afterAll(() => dispose?.())

const codeOf = (reply: { body: any }) => reply.body?.error?.code ?? null

/** The raw KV value of the session a token names, or null. */
async function copyOf(token: string): Promise<string | null> {
  const { sub, sid } = JSON.parse(
    atob((token.split('.')[1] as string).replace(/-/g, '+').replace(/_/g, '/')),
  )
  const kv = await mf.getKVNamespace('SESSIONS', 'isolate-0')
  return (await kv.get(sessionRecordKey(sub, await hashSessionId(sid)), 'text')) as string | null
}

/** Waits until `check` holds (the object writes a copy after it answered). */
async function until(check: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 100; i++) {
    if (await check()) return
    await sleep(20)
  }
  throw new Error(`never: ${what}`)
}

describe('the KV replica, written when the edge first asks', () => {
  it('a login writes no copy; the first read elsewhere writes it; the next isolate reads KV', async () => {
    const { token } = await loginAt(a, openid())
    expect(await copyOf(token)).toBeNull()
    expect((await b.fetch('/me', { token })).status).toBe(200)
    await until(async () => (await copyOf(token)) !== null, 'a copy in KV')
    expect((await c.fetch('/me', { token })).status).toBe(200)
  })

  it('strict mode never asks KV, so it writes no copy', async () => {
    const { token } = await loginAt(a, openid())
    expect((await strict.fetch('/me', { token })).status).toBe(200)
    await sleep(100)
    expect(await copyOf(token)).toBeNull()
  })

  it('an end after the copy was written deletes it: over in every isolate', async () => {
    const { token } = await loginAt(a, openid())
    expect((await b.fetch('/me', { token })).status).toBe(200)
    await until(async () => (await copyOf(token)) !== null, 'a copy in KV')
    expect((await c.fetch('/auth/logout', { method: 'POST', token })).status).toBe(200)
    expect(await copyOf(token)).toBeNull()
    for (const isolate of [a, b, c, strict]) {
      expect(codeOf(await isolate.fetch('/me', { token })), isolate.name).toBe('SESSION_EXPIRED')
    }
  })

  it('a session never read at the edge ends without a KV write, and stays over', async () => {
    const { token } = await loginAt(a, openid())
    expect((await b.fetch('/auth/logout', { method: 'POST', token })).status).toBe(200)
    for (const isolate of [a, b, c, strict]) {
      expect(codeOf(await isolate.fetch('/me', { token })), isolate.name).toBe('SESSION_EXPIRED')
    }
    expect(await copyOf(token)).toBeNull()
  })

  it('reads racing a logout in other isolates never leave a copy behind', async () => {
    for (let round = 0; round < 5; round++) {
      const { token } = await loginAt(a, openid())
      const reads = Promise.all([b, c, b, c].map((isolate) => isolate.fetch('/me', { token })))
      const out = await a.fetch('/auth/logout', { method: 'POST', token })
      expect(out.status).toBe(200)
      await reads
      // Whatever a read wrote before the end, the end deleted after it: one writer, in order.
      await sleep(50)
      expect(await copyOf(token), `round ${round}`).toBeNull()
      for (const isolate of [a, b, c, strict]) {
        expect(codeOf(await isolate.fetch('/me', { token })), isolate.name).toBe('SESSION_EXPIRED')
      }
    }
  })

  it('a refresh after the copy was written rewrites it: the older token is refused at the edge', async () => {
    const { token, refreshToken } = await loginAt(a, openid())
    expect((await b.fetch('/me', { token })).status).toBe(200)
    await until(async () => (await copyOf(token)) !== null, 'a copy in KV')
    const before = await copyOf(token)
    const refreshed = await c.fetch('/auth/refresh', { method: 'POST', json: { refreshToken } })
    expect(refreshed.status).toBe(200)
    expect(await copyOf(token)).not.toBe(before)
    expect(codeOf(await b.fetch('/me', { token }))).toBe('SESSION_EXPIRED')
    expect((await b.fetch('/me', { token: refreshed.body.token })).status).toBe(200)
  })
})
