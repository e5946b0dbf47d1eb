// A ban set through the admin API in one isolate takes effect in every other
// at once, with logout-all's guarantee: the sessions other isolates hold a
// copy of refuse every write, a strict isolate refuses them outright, and a
// login or refresh anywhere is 403 USER_BANNED until the ban is lifted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Isolate, loginAt, startIsolates } from './harness'

const KEY = 'cS3n1XzV8qL0mT5wR9pB2dK7hF4gJ6aY'
const ADMIN_KEYS = `ops:${KEY}`

let isolates: Isolate[]
let dispose: () => Promise<void>
let a: Isolate
let b: Isolate
let strict: Isolate
let n = 0
const openid = () => `ban-${++n}-${Math.random().toString(36).slice(2, 8)}`
const codeOf = (reply: { body: any }) => reply.body?.error?.code ?? null
const asOperator = { Authorization: `Bearer ${KEY}` }

beforeAll(async () => {
  ;({ isolates, dispose } = await startIsolates([
    { ADMIN_KEYS },
    { ADMIN_KEYS },
    { ADMIN_KEYS, SESSION_CONSISTENCY: 'strict' },
  ]))
  ;[a, b, strict] = isolates as [Isolate, Isolate, Isolate]
}, 60_000)
afterAll(() => dispose?.())

describe('a ban across isolates', () => {
  it('ends at once the sessions other isolates hold; login and refresh 403 everywhere; unban lets them in', async () => {
    const user = openid()
    const one = await loginAt(a, user)
    const two = await loginAt(b, user)
    // Each isolate now holds a copy of a session.
    expect((await a.fetch('/me', { token: one.token })).status).toBe(200)
    expect((await b.fetch('/me', { token: two.token })).status).toBe(200)
    const ban = await strict.fetch(`/admin/api/users/${one.uid}/ban`, {
      method: 'POST',
      headers: asOperator,
      json: { reason: 'abuse' },
    })
    expect(ban.status, JSON.stringify(ban.body)).toBe(200)
    for (const [isolate, token] of [
      [a, two.token],
      [b, one.token],
      [a, one.token],
      [b, two.token],
    ] as const) {
      const write = await isolate.fetch('/me/session', { method: 'PATCH', token, json: { x: 1 } })
      expect(codeOf(write), isolate.name).toBe('SESSION_EXPIRED')
    }
    for (const token of [one.token, two.token]) {
      expect(codeOf(await strict.fetch('/me', { token }))).toBe('SESSION_EXPIRED')
    }
    for (const isolate of [a, b, strict]) {
      await expect(loginAt(isolate, user)).rejects.toThrow(/403.*USER_BANNED/)
      const refresh = await isolate.fetch('/auth/refresh', {
        method: 'POST',
        json: { refreshToken: two.refreshToken },
      })
      expect([refresh.status, codeOf(refresh)]).toEqual([403, 'USER_BANNED'])
    }
    const lifted = await a.fetch(`/admin/api/users/${one.uid}/ban`, {
      method: 'DELETE',
      headers: asOperator,
    })
    expect(lifted.body).toEqual({ ok: true, lifted: true })
    for (const isolate of [a, b, strict]) expect((await loginAt(isolate, user)).uid).toBe(one.uid)
  })
})
