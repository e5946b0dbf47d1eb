// Several isolates of the Worker share one KV namespace and one namespace of
// session objects. Each test makes one isolate hold a copy of a session (its
// 5-second cache, like KV's minute elsewhere) while another ends or refreshes
// it, then shows that nothing the stale isolate does brings the session back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Isolate, loginAt, startIsolates } from './harness'

/** What a replay must repeat: both tokens and their ends (`expiresIn` counts from each answer). */
const tokensOf = ({ body }: { body: any }) => ({
  token: body.token,
  refreshToken: body.refreshToken,
  expiresAt: body.expiresAt,
  refreshExpiresAt: body.refreshExpiresAt,
})

let isolates: Isolate[]
let dispose: () => Promise<void>
let a: Isolate
let b: Isolate
let c: Isolate
let strict: Isolate
let n = 0
const openid = () => `iso-${++n}-${Math.random().toString(36).slice(2, 8)}`

beforeAll(async () => {
  ;({ isolates, dispose } = await startIsolates([{}, {}, {}, { SESSION_CONSISTENCY: 'strict' }]))
  ;[a, b, c, strict] = isolates as [Isolate, Isolate, Isolate, Isolate]
}, 60_000)
afterAll(() => dispose?.())

const codeOf = (reply: { body: any }) => reply.body?.error?.code ?? null

describe('a stale isolate cannot undo an ended session', () => {
  it('logout in A, then a session write in B (which still holds the session): 401, and dead everywhere', async () => {
    const { token } = await loginAt(a, openid())
    expect((await b.fetch('/me', { token })).status).toBe(200) // B now caches it
    expect((await a.fetch('/auth/logout', { method: 'POST', token })).status).toBe(200)
    const write = await b.fetch('/me/session', { method: 'PATCH', token, json: { back: true } })
    expect([write.status, codeOf(write)]).toEqual([401, 'SESSION_EXPIRED'])
    for (const isolate of [a, b, c, strict]) {
      expect(codeOf(await isolate.fetch('/me', { token })), isolate.name).toBe('SESSION_EXPIRED')
    }
  })

  it('a revoked device stays revoked while a stolen token writes every moment elsewhere', async () => {
    const victim = openid()
    const stolen = await loginAt(a, victim)
    const own = await loginAt(a, victim)
    const { body } = await a.fetch('/auth/sessions', { token: own.token })
    const device = body.sessions.find((s: { current: boolean }) => !s.current)
    expect((await b.fetch('/me', { token: stolen.token })).status).toBe(200)
    // The attacker writes from B without pause; the victim revokes the device from C meanwhile.
    const statuses: number[] = []
    let revoked = false
    const attacker = (async () => {
      for (let i = 0; i < 200 && statuses.filter((s) => s === 401).length < 5; i++) {
        const startedAfter = revoked
        const res = await b.fetch('/me/session', {
          method: 'PATCH',
          token: stolen.token,
          json: { tick: i },
        })
        statuses.push(startedAfter ? res.status : -res.status)
      }
    })()
    while (statuses.length < 3) await new Promise((resolve) => setTimeout(resolve, 5))
    const revoke = await c.fetch(`/auth/sessions/${device.id}`, {
      method: 'DELETE',
      token: own.token,
    })
    expect(revoke.status).toBe(200)
    revoked = true
    await attacker
    // Every write that started after the revocation was refused; none revived the device.
    expect(statuses.filter((s) => s > 0 && s !== 401)).toEqual([])
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(5)
    const after = await strict.fetch('/auth/sessions', { token: own.token })
    expect(after.body.sessions.map((s: { id: string }) => s.id)).not.toContain(device.id)
    expect(codeOf(await c.fetch('/me', { token: stolen.token }))).toBe('SESSION_EXPIRED')
  })

  it('logout-all in A ends the sessions that B and C hold, and their writes are refused', async () => {
    const user = openid()
    const one = await loginAt(a, user)
    const two = await loginAt(b, user)
    const three = await loginAt(c, user)
    expect((await b.fetch('/me', { token: two.token })).status).toBe(200)
    expect((await c.fetch('/me', { token: three.token })).status).toBe(200)
    const all = await a.fetch('/auth/logout-all', { method: 'POST', token: one.token })
    expect(all.body).toEqual({ ok: true, loggedOut: 3 })
    for (const [isolate, token] of [
      [b, two.token],
      [c, three.token],
    ] as const) {
      const write = await isolate.fetch('/me/session', { method: 'PATCH', token, json: { x: 1 } })
      expect(codeOf(write)).toBe('SESSION_EXPIRED')
    }
    for (const token of [one.token, two.token, three.token]) {
      expect(codeOf(await strict.fetch('/me', { token }))).toBe('SESSION_EXPIRED')
    }
  })
})

/** `POST /auth/refresh` with the refresh token in the body, as 0.4 clients send it. */
const refresh = (isolate: Isolate, refreshToken: string) =>
  isolate.fetch('/auth/refresh', { method: 'POST', json: { refreshToken } })

describe('a stale isolate cannot bring back an older generation', () => {
  it('refresh in A; a write in B with the older access token is refused and does not land', async () => {
    const { token: old, refreshToken } = await loginAt(a, openid())
    expect((await b.fetch('/me', { token: old })).status).toBe(200) // B holds generation 0
    const refreshed = await refresh(a, refreshToken)
    expect(refreshed.status).toBe(200)
    const fresh = refreshed.body.token as string
    const write = await b.fetch('/me/session', { method: 'PATCH', token: old, json: { stale: 1 } })
    expect(codeOf(write)).toBe('SESSION_EXPIRED')
    expect(codeOf(await c.fetch('/me', { token: old }))).toBe('SESSION_EXPIRED')
    const me = await c.fetch('/me', { token: fresh })
    expect([me.status, me.body.session]).toEqual([200, {}])
  })

  it('reuse of a replaced refresh token ends the whole session (OAuth 2.1 practice)', async () => {
    const { refreshToken: old } = await loginAt(a, openid())
    const next = (await refresh(a, old)).body.refreshToken
    const fresh = (await refresh(a, next)).body
    // Its successor was used: no grace.
    expect(codeOf(await refresh(b, old))).toBe('TOKEN_REVOKED')
    expect(codeOf(await strict.fetch('/me', { token: fresh.token }))).toBe('SESSION_EXPIRED')
    expect(codeOf(await refresh(c, fresh.refreshToken))).toBe('SESSION_EXPIRED')
  })

  it('two refreshes of one refresh token at once, in A and B: the same answer, the session lives everywhere', async () => {
    const { token, refreshToken } = await loginAt(a, openid())
    expect((await c.fetch('/me', { token })).status).toBe(200)
    const [one, two] = await Promise.all([refresh(a, refreshToken), refresh(b, refreshToken)])
    expect([one.status, two.status]).toEqual([200, 200])
    expect(tokensOf(two)).toEqual(tokensOf(one))
    for (const isolate of [a, b, c, strict]) {
      expect((await isolate.fetch('/me', { token: one.body.token })).status, isolate.name).toBe(200)
    }
    // The replaced access token still cannot write, anywhere.
    for (const isolate of [a, b, c, strict]) {
      const write = await isolate.fetch('/me/session', { method: 'PATCH', token, json: { x: 1 } })
      expect(codeOf(write), isolate.name).toBe('SESSION_EXPIRED')
    }
  })
  it('a refresh whose answer was lost, retried in B: the same answer again', async () => {
    const { refreshToken } = await loginAt(a, openid())
    const lost = await refresh(a, refreshToken)
    const retried = await refresh(b, refreshToken)
    expect(retried.status).toBe(200)
    expect(tokensOf(retried)).toEqual(tokensOf(lost))
    expect((await strict.fetch('/me', { token: retried.body.token })).status).toBe(200)
  })

  it('a stale write refused in B does not make B refuse the new token', async () => {
    const { token: old, refreshToken } = await loginAt(a, openid())
    expect((await b.fetch('/me', { token: old })).status).toBe(200) // B caches generation 0
    const fresh = (await refresh(a, refreshToken)).body.token
    // B still holds generation 0, so the old token's write reaches the object, which refuses it.
    const stale = await b.fetch('/me/session', { method: 'PATCH', token: old, json: { x: 1 } })
    expect(codeOf(stale)).toBe('SESSION_EXPIRED')
    expect((await b.fetch('/me', { token: fresh })).status).toBe(200)
    expect(
      (await b.fetch('/me/session', { method: 'PATCH', token: fresh, json: { y: 1 } })).status,
    ).toBe(200)
  })

  it('a replaced token in B ends nothing (logout-all, a device), refused as an ended one is', async () => {
    // Found by the chaos run: B, holding generation 0, passed the old token on
    // to the object, which refused the caller; nothing may end for it.
    const { token: old, refreshToken } = await loginAt(a, openid())
    const other = await loginAt(a, openid())
    expect((await b.fetch('/me', { token: old })).status).toBe(200) // B caches generation 0
    const fresh = (await refresh(a, refreshToken)).body.token
    const all = await b.fetch('/auth/logout-all', { method: 'POST', token: old })
    expect([all.status, codeOf(all)]).toEqual([401, 'SESSION_EXPIRED'])
    const sessions = (await a.fetch('/auth/sessions', { token: fresh })).body.sessions
    const device = await b.fetch(`/auth/sessions/${sessions[0].id}`, {
      method: 'DELETE',
      token: old,
    })
    expect([device.status, codeOf(device)]).toEqual([401, 'SESSION_EXPIRED'])
    for (const isolate of [a, b, c, strict]) {
      expect((await isolate.fetch('/me', { token: fresh })).status, isolate.name).toBe(200)
    }
    expect((await strict.fetch('/me', { token: other.token })).status).toBe(200)
  })

  it('a refresh in B reaches C at once: C asks the object when its copy is older than the token', async () => {
    const { token, refreshToken } = await loginAt(a, openid())
    expect((await c.fetch('/me', { token })).status).toBe(200) // C holds generation 0
    const fresh = (await refresh(b, refreshToken)).body.token
    expect((await c.fetch('/me', { token: fresh })).status).toBe(200)
  })
})

describe('M-1: an access token never follows a refresh, in any isolate', () => {
  it('a thief polling B and C with the access token sees an ended session and cannot refresh', async () => {
    const victim = await loginAt(a, openid())
    const ended = await loginAt(a, openid())
    await a.fetch('/auth/logout', { method: 'POST', token: ended.token })
    const endedAnswer = await c.fetch('/me', { token: ended.token })
    expect((await b.fetch('/me', { token: victim.token })).status).toBe(200) // B caches gen 0
    const refreshed = await refresh(a, victim.refreshToken)
    expect(refreshed.status).toBe(200)
    for (const isolate of [a, b, c, strict]) {
      const polled = await isolate.fetch('/me', { token: victim.token })
      if (polled.status === 200) continue // B's cached copy, for at most its cache seconds
      expect(polled, isolate.name).toEqual(endedAnswer)
      for (const attempt of [
        await isolate.fetch('/auth/refresh', { method: 'POST', token: victim.token }),
        await refresh(isolate, victim.token),
      ]) {
        expect(attempt.status, isolate.name).toBe(401)
        expect(attempt.body.token).toBeUndefined()
      }
    }
    // The replay of the victim's refresh token, from another isolate, is the same answer.
    const replayed = await refresh(c, victim.refreshToken)
    expect(tokensOf(replayed)).toEqual(tokensOf(refreshed))
    expect((await strict.fetch('/me', { token: refreshed.body.token })).status).toBe(200)
  })
})

describe('writers in several isolates', () => {
  it('parallel changes to different keys from three isolates all land', async () => {
    const { token } = await loginAt(a, openid())
    const writes = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        (isolates[i % 3] as Isolate).fetch('/me/session', {
          method: 'PATCH',
          token,
          json: { [`k${i}`]: i },
        }),
      ),
    )
    expect(writes.map((w) => w.status)).toEqual(Array(15).fill(200))
    const { body } = await strict.fetch('/me', { token })
    expect(body.session).toEqual(
      Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i])),
    )
  })

  it('50 parallel logins of one user across three isolates: exactly MAX_SESSIONS live', async () => {
    const user = openid()
    const logins = await Promise.all(
      Array.from({ length: 50 }, (_, i) => loginAt(isolates[i % 3] as Isolate, user)),
    )
    const live = await Promise.all(logins.map(({ token }) => strict.fetch('/me', { token })))
    expect(live.filter((r) => r.status === 200)).toHaveLength(10)
    const newest = logins.find((_, i) => live[i]?.status === 200) as { token: string }
    const { body } = await strict.fetch('/auth/sessions', { token: newest.token })
    expect(body.sessions).toHaveLength(10)
  })
})

describe('the two consistency modes', () => {
  it('edge: an isolate that read the session may answer a read-only request for up to SESSION_CACHE_SECONDS; strict: never', async () => {
    const { token } = await loginAt(a, openid())
    expect((await b.fetch('/me', { token })).status).toBe(200)
    expect((await strict.fetch('/me', { token })).status).toBe(200)
    await a.fetch('/auth/logout', { method: 'POST', token })
    // The documented window of edge mode: B's cached copy, read-only.
    expect((await b.fetch('/me', { token })).status).toBe(200)
    expect(codeOf(await strict.fetch('/me', { token }))).toBe('SESSION_EXPIRED')
  })
})
