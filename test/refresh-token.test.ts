// Two tokens (issue #26 item 2, M-1): a short-lived access token and an
// opaque, rotating refresh token. A thief holding only an access token can
// never get a token; a refresh token presented again within the grace gets
// the same answer; after the grace, or once its successor was used, it ends
// the session. Against workerd, the session objects, KV and the emulator.

import { runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { UserSessions } from '../src/runtime/cloudflare/object'
import {
  appWith,
  call,
  configError,
  decodeJwt,
  expectError,
  type Fetcher,
  kvKeys,
  login,
  openKv,
  production,
  readAtEdge,
  refreshWith,
  served,
  testApp,
  testEnv,
} from './helpers'

/** The answer of a login or refresh. */
interface Tokens {
  token: string
  refreshToken: string
  expiresIn: number
  expiresAt: string
}

const namespace = () => testEnv.USER_SESSIONS as DurableObjectNamespace<UserSessions>
const objectOf = (uid: string) => namespace().get(namespace().idFromName(uid))

/** A clock the test moves. */
function clock() {
  const t = { now: Math.floor(Date.now() / 1000) }
  return { t, now: () => t.now }
}

/** A refresh as 0.4 clients make it: the refresh token in the body, nothing else. */
const refresh = (refreshToken: unknown, app: Fetcher) =>
  call<Tokens>('POST', '/auth/refresh', { json: { refreshToken } }, app)
/** A refresh as 0.3 clients make it: the bearer token, no body. */
const refreshByAccessToken = (token: string, app: Fetcher) =>
  call<Tokens>('POST', '/auth/refresh', { token }, app)
const me = (token: string, app: Fetcher) => call('GET', '/me', { token }, app)
const write = (token: string, app: Fetcher) =>
  call('PATCH', '/me/session', { token, json: { x: 1 } }, app)

async function loggedIn(app: Fetcher) {
  const body = (await login(undefined, app)) as unknown as Tokens & { user: { id: string } }
  return body
}

describe('two tokens: login and refresh answer an access token and a refresh token', () => {
  it('the access token lives ACCESS_TOKEN_TTL (2 hours), the refresh token is opaque and long', async () => {
    const { t, now } = clock()
    const app = appWith({}, { now })
    const first = await loggedIn(app)
    const { payload } = decodeJwt(first.token)
    expect(payload.exp - payload.iat).toBe(7200)
    expect(first.expiresIn).toBe(7200)
    expect(first.refreshToken).toMatch(/^[\w-]{100,400}$/)
    // Not a JWT, and not the access token's signature in disguise.
    expect(first.refreshToken.split('.')).toHaveLength(1)
    t.now += 7210
    expectError(await me(first.token, app), 401, 'TOKEN_EXPIRED')
    const next = await refresh(first.refreshToken, app)
    expect(next.status, next.text).toBe(200)
    expect(next.body.refreshToken).not.toBe(first.refreshToken)
    expect((await me(next.body.token, app)).status).toBe(200)
  })

  it('ACCESS_TOKEN_TTL sets the lifetime; a bad value is CONFIG_INVALID', async () => {
    const app = appWith({ ACCESS_TOKEN_TTL: '300' })
    const { token } = await loggedIn(app)
    const { payload } = decodeJwt(token)
    expect(payload.exp - payload.iat).toBe(300)
    for (const bad of ['0', '59', '1.5', 'two hours']) {
      expect(configError(production({ ACCESS_TOKEN_TTL: bad }))).toContain('ACCESS_TOKEN_TTL')
    }
  })

  it('the OpenAPI document has the refresh body and both tokens in the answer', async () => {
    const doc = (await call('GET', '/openapi.json')).body
    const route = doc.paths['/auth/refresh'].post
    const body = route.requestBody.content['application/json'].schema
    expect(body.required).toEqual(['refreshToken'])
    const answer = route.responses['200'].content['application/json'].schema
    expect(answer.required).toEqual(expect.arrayContaining(['token', 'refreshToken']))
    expect(route.security ?? []).toEqual([])
  })

  it('the refresh token is kept only hashed: not in the object, not in KV', async () => {
    const app = appWith()
    const { token, refreshToken, user } = await loggedIn(app)
    await readAtEdge(token)
    const rows = await runInDurableObject(objectOf(user.id), (_instance, state) =>
      state.storage.sql.exec('SELECT * FROM sessions').toArray(),
    )
    const stored = JSON.stringify(rows)
    const nonce = atob(refreshToken.replace(/-/g, '+').replace(/_/g, '/')).split('.')[1] as string
    expect(stored).not.toContain(refreshToken)
    expect(stored).not.toContain(nonce)
    expect(stored).toContain('hash')
    const [key] = await kvKeys(`session:${user.id}:`)
    const replica = JSON.stringify(await openKv(key?.name ?? ''))
    expect(replica).not.toContain(nonce)
    expect(replica).not.toContain('hash')
  })
})

describe('M-1: holding only an access token never yields a token', () => {
  it('a refresh with only Authorization (as 0.3 clients send it) is 401, before and after a refresh', async () => {
    const app = appWith()
    const user = await loggedIn(app)
    expectError(await refreshByAccessToken(user.token, app), 401, 'AUTH_REQUIRED')
    expectError(await refresh(user.token, app), 401, 'TOKEN_INVALID')
    const next = await refresh(user.refreshToken, app)
    expect(next.status).toBe(200)
    expectError(await refreshByAccessToken(user.token, app), 401, 'AUTH_REQUIRED')
    expectError(await refreshByAccessToken(next.body.token, app), 401, 'AUTH_REQUIRED')
    // The session lives on: nothing the thief sent ended it.
    expect((await me(next.body.token, app)).status).toBe(200)
  })

  it('a thief polling with the old access token sees what an ended session shows, and gets nothing at any moment of the grace', async () => {
    const { t, now } = clock()
    const app = appWith({ REFRESH_GRACE_SECONDS: '5' }, { now })
    const victim = await loggedIn(app)
    const stolen = victim.token
    expect((await me(stolen, app)).status).toBe(200)
    const ended = await loggedIn(app)
    await call('POST', '/auth/logout', { token: ended.token }, app)
    const endedAnswer = await me(ended.token, app)
    const next = await refresh(victim.refreshToken, app)
    expect(next.status).toBe(200)
    for (let second = 0; second <= 6; second++) {
      const polled = await me(stolen, app)
      expect([polled.status, polled.body]).toEqual([endedAnswer.status, endedAnswer.body])
      const written = await write(stolen, app)
      expect([written.status, written.body]).toEqual([endedAnswer.status, endedAnswer.body])
      for (const attempt of [
        await refreshByAccessToken(stolen, app),
        await refresh(stolen, app),
        await call('POST', '/auth/refresh', { token: stolen, json: {} }, app),
      ]) {
        expect(attempt.status).toBe(401)
        expect(attempt.body.token).toBeUndefined()
      }
      t.now += 1
    }
    expect((await me(next.body.token, app)).status).toBe(200)
  })

  it('a refresh token the thief forges from what the access token shows is refused and ends nothing', async () => {
    const app = appWith()
    const victim = await loggedIn(app)
    const parts = atob(victim.refreshToken.replace(/-/g, '+').replace(/_/g, '/')).split('.')
    // Same session, generation 0 and an older "generation": only the MAC stands in the way.
    for (const gen of ['0', '1']) {
      const forged = btoa([gen, 'A'.repeat(43), ...parts.slice(2)].join('.'))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '')
      expectError(await refresh(forged, app), 401, 'TOKEN_INVALID')
    }
    expect((await me(victim.token, app)).status).toBe(200)
    expect((await refresh(victim.refreshToken, app)).status).toBe(200)
  })
})

describe('the grace is an idempotent replay', () => {
  it('the refresh token presented again within the grace gets the identical answer', async () => {
    const { t, now } = clock()
    const app = appWith({}, { now })
    const first = await loggedIn(app)
    const rotated = await refresh(first.refreshToken, app)
    expect(rotated.status).toBe(200)
    t.now += 10
    const replayed = await refresh(first.refreshToken, appWith({}, { now }))
    expect(replayed.status, replayed.text).toBe(200)
    expect(replayed.body.token).toBe(rotated.body.token)
    expect(replayed.body.refreshToken).toBe(rotated.body.refreshToken)
    expect(replayed.body.expiresAt).toBe(rotated.body.expiresAt)
    // Not a new generation: the successor still rotates once, and only once.
    const third = await refresh(rotated.body.refreshToken, app)
    expect(third.status).toBe(200)
    expect(decodeJwt(third.body.token).payload.gen).toBe(2)
  })

  it('two refreshes of one refresh token at once, in two isolates, get the same answer', async () => {
    const app = appWith()
    const { refreshToken } = await loggedIn(app)
    const [a, b] = await Promise.all([refresh(refreshToken, app), refresh(refreshToken, appWith())])
    expect([a.status, b.status]).toEqual([200, 200])
    expect(a.body.token).toBe(b.body.token)
    expect(a.body.refreshToken).toBe(b.body.refreshToken)
  })

  it('after the grace, the replaced refresh token is reuse: the session ends', async () => {
    const { t, now } = clock()
    const app = appWith({}, { now })
    const first = await loggedIn(app)
    const rotated = await refresh(first.refreshToken, app)
    t.now += 31
    expectError(await refresh(first.refreshToken, app), 401, 'TOKEN_REVOKED')
    expectError(await me(rotated.body.token, app), 401, 'SESSION_EXPIRED')
    expectError(await refresh(rotated.body.refreshToken, app), 401, 'SESSION_EXPIRED')
  })

  it('once its successor was used, the replaced refresh token is reuse, even within the grace', async () => {
    const app = appWith()
    const first = await loggedIn(app)
    const rotated = await refresh(first.refreshToken, app)
    const third = await refresh(rotated.body.refreshToken, app)
    expect(third.status).toBe(200)
    expectError(await refresh(first.refreshToken, app), 401, 'TOKEN_REVOKED')
    expectError(await me(third.body.token, app), 401, 'SESSION_EXPIRED')
  })

  it('REFRESH_GRACE_SECONDS=0 forgives nothing', async () => {
    const app = appWith({ REFRESH_GRACE_SECONDS: '0' })
    const first = await loggedIn(app)
    const rotated = await refresh(first.refreshToken, app)
    expectError(await refresh(first.refreshToken, app), 401, 'TOKEN_REVOKED')
    expectError(await me(rotated.body.token, app), 401, 'SESSION_EXPIRED')
  })
})

describe('an absolute session lifetime (review of 0.1, finding 8)', () => {
  it('stops sliding expiry at SESSION_MAX_AGE after login, then refresh is 401', async () => {
    let clock = Math.floor(Date.now() / 1000)
    const env = { ...testEnv, SESSION_TTL: '3600', SESSION_MAX_AGE: '7200' }
    const app = served(testApp({ now: () => clock }), env)
    const start = clock
    let { token, refreshToken } = await login(undefined, app)
    for (const at of [1900, 3800, 5700, 7000]) {
      clock = start + at
      const res = await refreshWith(refreshToken, app)
      expect(res.status, res.text).toBe(200)
      ;({ token, refreshToken } = res.body)
      expect(decodeJwt(token).payload.exp).toBeLessThanOrEqual(start + 7200)
      expect(Date.parse(res.body.refreshExpiresAt) / 1000).toBeLessThanOrEqual(start + 7200)
    }
    clock = start + 7201
    expectError(await refreshWith(refreshToken, app), 401, 'SESSION_EXPIRED')
    expectError(await call('GET', '/me', { token }, app), 401, 'SESSION_EXPIRED')
  })
})
