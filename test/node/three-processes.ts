// The session rules on Node with Redis, as deployed: three processes of
// `node examples/node/server.mjs` (dist/node.js, on Node 20 and 24) sharing
// one Redis of the test's own (one node, a Sentinel's master, or a Cluster),
// against the Node emulator, driven over HTTP. The same rules as the Workers
// tests (test/lifecycle, test/isolates, test/identity, test/events): devices,
// the exact cap under 50 parallel logins, refresh generations with the grace,
// refused stale writes, logout-all, account deletion, WeChat's pushes; and
// what is in Redis.
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BuiltPush } from '../../src/emulator/push'
import { type EmulatorClient, emulatorClient } from '../../src/testing-client'
import { APP_ID, type Caller, caller, type NodeStack, startNodeStack } from './stack'

/** What the suite reads of Redis directly, whichever its shape. */
export interface Db {
  exists(key: string): Promise<number>
  hLen(key: string): Promise<number>
  hKeys(key: string): Promise<string[]>
  hGet(key: string, field: string): Promise<string | null | undefined>
  hGetAll(key: string): Promise<Record<string, string>>
  sMembers(key: string): Promise<string[]>
  pTTL(key: string): Promise<number>
  pExpireTime(key: string): Promise<number>
  /** KEYS on every master. */
  keys(pattern: string): Promise<string[]>
}

/** A Redis of the test's own, the variables that point the servers at it, and a client of it. */
export interface RedisSetup {
  vars: Record<string, string>
  db: Db
  dispose(): Promise<void>
}

/** What the suite hands to the tests a topology adds. */
export interface Suite {
  readonly stack: NodeStack
  readonly callers: readonly [Caller, Caller, Caller]
  readonly db: Db
  readonly emulator: EmulatorClient
  loginAt(at: Caller, user: string): Promise<{ token: string; uid: string }>
}

export const codeOf = (reply: { body: any }) => reply.body?.error?.code ?? null

/** The three-process suite against `topology`'s Redis; its state for the tests that follow. */
export function threeProcesses(topology: { start(): Promise<RedisSetup> }): Suite {
  let redis: RedisSetup
  let avatars: string
  let stack: NodeStack
  let db: Db
  let emulator: EmulatorClient
  let a: Caller
  let b: Caller
  let c: Caller
  let n = 0
  const openid = () => `node-${++n}-${randomBytes(4).toString('hex')}`
  /** A client address of its own, so that the login limit (shared in Redis) is not what a test meets. */
  const address = () =>
    `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::1`

  beforeAll(async () => {
    redis = await topology.start()
    db = redis.db
    avatars = await mkdtemp(join(tmpdir(), 'wxa-avatars-'))
    stack = await startNodeStack({
      servers: 3,
      vars: { ...redis.vars, TRUST_PROXY: '1', IDENTITY: 'unionid', AVATARS_DIR: avatars },
    })
    ;[a, b, c] = stack.servers.map((server) => caller(server.url)) as [Caller, Caller, Caller]
    emulator = emulatorClient(stack.emulator.url)
  }, 120_000)

  afterAll(async () => {
    for (const server of stack?.servers ?? []) {
      // Connection errors are expected once: Redis is SIGKILLed on purpose below.
      const errors = server.output.filter(
        (line) => /error/i.test(line) && !line.includes('Redis connection error'),
      )
      if (errors.length)
        console.log(
          `${server.name}: ${errors.length} error lines, first:\n${errors.slice(0, 5).join('\n')}`,
        )
    }
    await stack?.dispose()
    await redis?.dispose()
    if (avatars) await rm(avatars, { recursive: true, force: true })
  })

  async function loginAt(
    at: Caller,
    user: string,
    { unionid, device }: { unionid?: string; device?: Record<string, string> } = {},
  ) {
    const code = await emulator.loginCode(user, unionid ? { unionid } : {})
    const res = await at('/auth/login', {
      method: 'POST',
      json: { code, ...(device ? { device } : {}) },
      headers: { 'X-Forwarded-For': address() },
    })
    if (res.status !== 200) throw new Error(`login: ${res.status} ${JSON.stringify(res.body)}`)
    return { token: res.body.token as string, uid: res.body.user.id as string }
  }

  const userKey = (uid: string, part: string) => `wxa:{${encodeURIComponent(uid)}}:${part}`

  describe('three processes, one Redis', () => {
    it('run dist/node.js on every Node version found here (20 and 24)', async () => {
      const majors = [...new Set(stack.servers.map((s) => s.node.major))]
      console.log(`node: servers on Node ${stack.servers.map((s) => s.node.major).join(', ')}`)
      expect(majors.length).toBeGreaterThanOrEqual(1)
      for (const at of [a, b, c]) expect((await at('/healthz')).body).toEqual({ ok: true })
      // Each says what it stores sessions in, once.
      for (const server of stack.servers) {
        expect(server.output.filter((line) => line.includes('sessions in Redis'))).toHaveLength(1)
      }
    })

    it('devices: listed with hints in one process, revoked from another, gone in the third', async () => {
      const user = openid()
      const phone = await loginAt(a, user, { device: { platform: 'ios', model: 'iPhone 15' } })
      const laptop = await loginAt(b, user)
      const list = await c('/auth/sessions', { token: phone.token })
      expect(list.status).toBe(200)
      expect(list.body.sessions).toHaveLength(2)
      const mine = list.body.sessions.find((s: { current: boolean }) => s.current)
      expect(mine.device).toMatchObject({ platform: 'ios', model: 'iPhone 15' })
      const other = list.body.sessions.find((s: { current: boolean }) => !s.current)
      expect(
        (await b(`/auth/sessions/${other.id}`, { method: 'DELETE', token: phone.token })).status,
      ).toBe(200)
      expect(codeOf(await c('/me', { token: laptop.token }))).toBe('SESSION_EXPIRED')
      expect((await a('/me', { token: phone.token })).status).toBe(200)
      const again = await a(`/auth/sessions/${other.id}`, { method: 'DELETE', token: phone.token })
      expect([again.status, codeOf(again)]).toEqual([404, 'SESSION_NOT_FOUND'])
    })

    it('a revoked device stays revoked while its stolen token writes from another process', async () => {
      const victim = openid()
      const stolen = await loginAt(a, victim)
      const own = await loginAt(a, victim)
      const { body } = await a('/auth/sessions', { token: own.token })
      const device = body.sessions.find((s: { current: boolean }) => !s.current)
      const statuses: number[] = []
      let revoked = false
      const attacker = (async () => {
        for (let i = 0; i < 200 && statuses.filter((s) => s === 401).length < 5; i++) {
          const startedAfter = revoked
          const res = await b('/me/session', { method: 'PATCH', token: stolen.token, json: { i } })
          statuses.push(startedAfter ? res.status : -res.status)
        }
      })()
      while (statuses.length < 3) await new Promise((resolve) => setTimeout(resolve, 5))
      expect(
        (await c(`/auth/sessions/${device.id}`, { method: 'DELETE', token: own.token })).status,
      ).toBe(200)
      revoked = true
      await attacker
      expect(statuses.filter((s) => s > 0 && s !== 401)).toEqual([])
      expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(5)
      const after = await a('/auth/sessions', { token: own.token })
      expect(after.body.sessions.map((s: { id: string }) => s.id)).not.toContain(device.id)
    })

    it('50 parallel logins of one user across three processes: exactly MAX_SESSIONS (10) live', async () => {
      const user = openid()
      const callers = [a, b, c]
      const logins = await Promise.all(
        Array.from({ length: 50 }, (_, i) => loginAt(callers[i % 3] as Caller, user)),
      )
      const live = await Promise.all(logins.map(({ token }) => c('/me', { token })))
      expect(live.filter((r) => r.status === 200)).toHaveLength(10)
      expect(live.filter((r) => r.status !== 200).map(codeOf)).toEqual(
        Array(40).fill('SESSION_EXPIRED'),
      )
      const newest = logins.find((_, i) => live[i]?.status === 200) as {
        token: string
        uid: string
      }
      expect((await a('/auth/sessions', { token: newest.token })).body.sessions).toHaveLength(10)
      // Ended sessions stay as tombstones until their expiry; nothing else is kept per
      // session. One more field: the user's newest session_key (`key:wechat:<appid>`), sealed.
      expect(await db.hLen(userKey(newest.uid, 'sessions'))).toBe(51)
      const fields = await db.hKeys(userKey(newest.uid, 'sessions'))
      const keyField = fields.find((f) => f.startsWith('key:')) as string
      expect(keyField).toMatch(/^key:wechat:wx/)
      expect(await db.hGet(userKey(newest.uid, 'sessions'), keyField)).toMatch(/^v1\./)
    })

    it('parallel changes to different keys from three processes all land', async () => {
      const { token } = await loginAt(a, openid())
      const writes = await Promise.all(
        Array.from({ length: 15 }, (_, i) =>
          ([a, b, c][i % 3] as Caller)('/me/session', {
            method: 'PATCH',
            token,
            json: { [`k${i}`]: i },
          }),
        ),
      )
      expect(writes.map((w) => w.status)).toEqual(Array(15).fill(200))
      const { body } = await c('/me', { token })
      expect(body.session).toEqual(
        Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i])),
      )
    })
  })

  describe('refresh generations', () => {
    it('refresh in A; the older token is refused in B, for writes and reads, and writes nothing', async () => {
      const { token: old } = await loginAt(a, openid())
      const refreshed = await a('/auth/refresh', { method: 'POST', token: old })
      expect(refreshed.status).toBe(200)
      const write = await b('/me/session', { method: 'PATCH', token: old, json: { stale: 1 } })
      expect(codeOf(write)).toBe('TOKEN_REVOKED')
      expect(codeOf(await c('/me', { token: old }))).toBe('TOKEN_REVOKED')
      const me = await c('/me', { token: refreshed.body.token })
      expect([me.status, me.body.session]).toEqual([200, {}])
    })

    it('a refused stale write ends nothing: the new token still reads and writes everywhere', async () => {
      const { token: old } = await loginAt(a, openid())
      const fresh = (await a('/auth/refresh', { method: 'POST', token: old })).body.token
      expect(codeOf(await b('/me/session', { method: 'PATCH', token: old, json: { x: 1 } }))).toBe(
        'TOKEN_REVOKED',
      )
      for (const at of [a, b, c]) expect((await at('/me', { token: fresh })).status).toBe(200)
      expect(
        (await b('/me/session', { method: 'PATCH', token: fresh, json: { y: 1 } })).status,
      ).toBe(200)
    })

    it('two refreshes of one token at once, in A and B: both answered (the grace), both live', async () => {
      const { token } = await loginAt(a, openid())
      const [one, two] = await Promise.all([
        a('/auth/refresh', { method: 'POST', token }),
        b('/auth/refresh', { method: 'POST', token }),
      ])
      expect([one.status, two.status]).toEqual([200, 200])
      for (const at of [a, b, c]) {
        for (const next of [one.body.token, two.body.token]) {
          expect((await at('/me', { token: next })).status).toBe(200)
        }
      }
      expect(codeOf(await c('/me/session', { method: 'PATCH', token, json: { x: 1 } }))).toBe(
        'TOKEN_REVOKED',
      )
    })

    it('reuse of a token two generations old ends the whole session (OAuth 2.1 practice)', async () => {
      const { token: old } = await loginAt(a, openid())
      const next = (await a('/auth/refresh', { method: 'POST', token: old })).body.token
      const fresh = (await b('/auth/refresh', { method: 'POST', token: next })).body.token
      expect(codeOf(await c('/auth/refresh', { method: 'POST', token: old }))).toBe('TOKEN_REVOKED')
      expect(codeOf(await a('/me', { token: fresh }))).toBe('SESSION_EXPIRED')
    })
  })

  describe('logout-all', () => {
    it('ends every session of the user, in every process', async () => {
      const user = openid()
      const one = await loginAt(a, user)
      const two = await loginAt(b, user)
      const three = await loginAt(c, user)
      const all = await b('/auth/logout-all', { method: 'POST', token: one.token })
      expect(all.body).toEqual({ ok: true, loggedOut: 3 })
      for (const [at, token] of [
        [a, one.token],
        [b, two.token],
        [c, three.token],
      ] as const) {
        expect(codeOf(await at('/me/session', { method: 'PATCH', token, json: { x: 1 } }))).toBe(
          'SESSION_EXPIRED',
        )
      }
    })

    it('a dead token cannot end the others; a replaced one cannot either', async () => {
      const user = openid()
      const dead = await loginAt(a, user)
      const replaced = await loginAt(a, user)
      const keep = await loginAt(b, user)
      expect((await a('/auth/logout', { method: 'POST', token: dead.token })).status).toBe(200)
      await b('/auth/refresh', { method: 'POST', token: replaced.token })
      const byDead = await c('/auth/logout-all', { method: 'POST', token: dead.token })
      expect([byDead.status, codeOf(byDead)]).toEqual([401, 'SESSION_EXPIRED'])
      const byReplaced = await c('/auth/logout-all', { method: 'POST', token: replaced.token })
      expect([byReplaced.status, codeOf(byReplaced)]).toEqual([401, 'TOKEN_REVOKED'])
      expect((await a('/me', { token: keep.token })).status).toBe(200)
    })
  })

  describe('account deletion (IDENTITY=unionid)', () => {
    it('ends every session and deletes the identities and the unionid link, in Redis', async () => {
      const user = openid()
      const unionid = `union-${randomBytes(6).toString('hex')}`
      const one = await loginAt(a, user, { unionid })
      const two = await loginAt(b, user, { unionid })
      expect(await db.exists(`wxa:identity:${APP_ID}:${user}`)).toBe(1)
      expect(await db.exists(`wxa:unionid:${unionid}`)).toBe(1)
      expect(await db.sMembers(userKey(one.uid, 'identities'))).toEqual(
        expect.arrayContaining([`identity:${APP_ID}:${user}`, `unionid:${unionid}`]),
      )
      const code = await emulator.loginCode(user)
      const res = await c('/auth/account', { method: 'DELETE', token: one.token, json: { code } })
      expect([res.status, res.body]).toEqual([200, { ok: true }])
      for (const at of [a, b, c]) {
        for (const token of [one.token, two.token])
          expect(codeOf(await at('/me', { token }))).toBe('SESSION_EXPIRED')
      }
      expect(await db.exists(`wxa:identity:${APP_ID}:${user}`)).toBe(0)
      expect(await db.exists(`wxa:unionid:${unionid}`)).toBe(0)
      expect(await db.exists(userKey(one.uid, 'identities'))).toBe(0)
      const rows = Object.values(await db.hGetAll(userKey(one.uid, 'sessions'))).map((json) =>
        JSON.parse(json),
      )
      expect(rows.map((row) => row.record)).toEqual([null, null])
    })
  })

  describe('WeChat pushes, claims in Redis', () => {
    async function push(input: Record<string, unknown>): Promise<BuiltPush> {
      const res = await emulator.request('POST', '/push', input)
      expect(res.status).toBe(200)
      return (await res.json()) as BuiltPush
    }
    const send = (at: Caller, built: BuiltPush, query = built.query) =>
      at(`/wechat/events?${query}`, {
        method: 'POST',
        body: built.body,
        headers: { 'Content-Type': built.contentType },
      })

    it('/__emulator/events delivers a cancellation to the app: the user is forgotten everywhere', async () => {
      const user = openid()
      const { token } = await loginAt(b, user)
      const res = await emulator.request('POST', '/events', {
        openid: user,
        event: 'user_authorization_cancellation',
      })
      expect(await res.json()).toEqual({ status: 200, answer: 'success' })
      for (const at of [a, b, c]) expect(codeOf(await at('/me', { token }))).toBe('SESSION_EXPIRED')
      expect(await db.exists(`wxa:identity:${APP_ID}:${user}`)).toBe(0)
    })

    it('the same cancellation at each process is acted on once; its query cannot carry another body', async () => {
      const alice = openid()
      const bob = openid()
      await loginAt(a, alice)
      const bobs = await loginAt(a, bob)
      const built = await push({ openid: alice, event: 'user_authorization_cancellation' })
      expect((await send(a, built)).body).toBe('success')
      const again = await loginAt(b, alice)
      expect((await send(b, built)).body).toBe('success')
      expect((await send(c, built)).body).toBe('success')
      expect((await c('/me', { token: again.token })).status).toBe(200)
      const forged = await push({ openid: bob })
      expect(codeOf(await send(c, forged, built.query))).toBe('WECHAT_EVENT_SIGNATURE_INVALID')
      expect((await a('/me', { token: bobs.token })).status).toBe(200)
      const claims = await db.keys('wxa:claim:*')
      expect(claims.length).toBeGreaterThanOrEqual(2)
      for (const key of claims) expect(await db.pTTL(key)).toBeGreaterThan(0)
    })
  })

  describe('the profile, avatars in AVATARS_DIR', () => {
    const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
    const image = (text: string) => new Uint8Array([...PNG, ...new TextEncoder().encode(text)])
    /** `PUT /auth/profile` as wx.uploadFile sends it. */
    async function upload(base: string, token: string, avatar: Uint8Array, nickname?: string) {
      const form = new FormData()
      form.append('avatar', new Blob([avatar]), 'tmp_avatar.png')
      if (nickname) form.append('nickname', nickname)
      const res = await fetch(new URL('/auth/profile', base), {
        method: 'POST',
        headers: { Authorization: `JWT ${token}` },
        body: form,
      })
      return { status: res.status, body: (await res.json()) as any }
    }
    const avatarAt = async (base: string, url: string) => {
      const res = await fetch(new URL(new URL(url).pathname, base))
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        bytes: new Uint8Array(await res.arrayBuffer()),
      }
    }
    const files = async () => (await readdir(avatars)).filter((name) => !name.endsWith('.type'))

    it('an avatar uploaded in A is served by B; replaced in C, the old one is gone for all', async () => {
      const user = openid()
      const { token, uid } = await loginAt(a, user)
      const [nodeA, nodeB, nodeC] = stack.servers.map((server) => server.url) as [
        string,
        string,
        string,
      ]
      const first = await upload(nodeA, token, image('first'), 'Alice')
      expect(first.status).toBe(200)
      expect(first.body.profile.nickname).toBe('Alice')
      const served = await avatarAt(nodeB, first.body.profile.avatarUrl)
      expect([served.status, served.type]).toEqual([200, 'image/png'])
      expect(served.bytes).toEqual(image('first'))
      const before = await files()
      const second = await upload(nodeC, token, image('second'))
      expect(second.status).toBe(200)
      expect((await avatarAt(nodeA, first.body.profile.avatarUrl)).status).toBe(404)
      expect((await avatarAt(nodeA, second.body.profile.avatarUrl)).bytes).toEqual(image('second'))
      expect((await files()).length).toBe(before.length) // one out, one in: nothing left behind
      // The profile is user data: no expiry, unlike the sessions.
      expect(await db.pTTL(userKey(uid, 'profile'))).toBe(-1)
      expect(await db.exists(userKey(uid, 'owed'))).toBe(0)
    })

    it("WeChat's risky verdict, pushed through the Node emulator, deletes the avatar everywhere", async () => {
      const { token } = await loginAt(b, openid())
      const [, nodeB] = stack.servers.map((server) => server.url) as [string, string]
      const set = await upload(nodeB, token, image('a risky picture'))
      expect(set.status).toBe(200)
      const checked = await emulator.request('POST', '/media-checks')
      const { delivered } = (await checked.json()) as {
        delivered: { suggest: string; status: number }[]
      }
      expect(delivered).toContainEqual(expect.objectContaining({ suggest: 'risky', status: 200 }))
      for (const at of [a, b, c])
        expect((await at('/auth/profile', { token })).body.profile.avatarUrl).toBeNull()
      expect((await avatarAt(nodeB, set.body.profile.avatarUrl)).status).toBe(404)
    })

    it('account deletion takes the profile and its avatar file', async () => {
      const user = openid()
      const { token, uid } = await loginAt(a, user)
      const [nodeA] = stack.servers.map((server) => server.url) as [string]
      const set = await upload(nodeA, token, image('mine'), 'Bob')
      const before = await files()
      const code = await emulator.loginCode(user)
      expect((await c('/auth/account', { method: 'DELETE', token, json: { code } })).status).toBe(
        200,
      )
      expect(await db.exists(userKey(uid, 'profile'))).toBe(0)
      expect((await avatarAt(nodeA, set.body.profile.avatarUrl)).status).toBe(404)
      expect((await files()).length).toBe(before.length - 1)
    })
  })

  describe('what Redis keeps', () => {
    it('every key of a user expires (PEXPIREAT) with the last session: an idle user costs nothing', async () => {
      const { token, uid } = await loginAt(a, openid())
      const { expiresAt } = (await a('/auth/sessions', { token })).body.sessions[0]
      const at = Date.parse(expiresAt)
      for (const part of ['sessions', 'identities']) {
        const key = userKey(uid, part)
        expect(Math.abs((await db.pExpireTime(key)) - at), key).toBeLessThan(1000)
      }
      const owned = await db.keys(`wxa:{${encodeURIComponent(uid)}}:*`)
      expect(owned.sort()).toEqual([userKey(uid, 'identities'), userKey(uid, 'sessions')])
      // No key without an expiry but the owed index and profiles (user data).
      for (const key of await db.keys('wxa:*')) {
        if (key === 'wxa:owed' || key.endsWith(':profile')) continue
        expect(await db.pTTL(key), key).toBeGreaterThan(0)
      }
    })

    it('the login limit is one counter for all processes (fixed window, a minute)', async () => {
      const from = { 'X-Forwarded-For': `203.0.113.${1 + Math.floor(Math.random() * 250)}` }
      const statuses: number[] = []
      for (let i = 0; i < 31; i++) {
        const at = [a, b, c][i % 3] as Caller
        statuses.push((await at('/auth/login', { method: 'POST', json: {}, headers: from })).status)
      }
      expect(statuses.slice(0, 30).every((s) => s === 400)).toBe(true)
      expect(statuses[30]).toBe(429)
    })
  })

  return {
    get stack() {
      return stack
    },
    get callers() {
      return [a, b, c] as const
    },
    get db() {
      return db
    },
    get emulator() {
      return emulator
    },
    loginAt: (at, user) => loginAt(at, user),
  }
}
