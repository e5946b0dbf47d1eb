// The session rules on Node with Redis, as deployed: three processes of
// `node examples/node/server.mjs` (dist/node.js, on Node 20 and 24) sharing
// one Redis of the test's own (one node, a Sentinel's master, or a Cluster),
// against the Node emulator, driven over HTTP. The same rules as the Workers
// tests (test/lifecycle, test/isolates, test/identity, test/events): devices,
// the exact cap under 50 parallel logins, refresh generations with the grace,
// refused stale writes, logout-all, account deletion, WeChat's pushes; and
// what is in Redis. The project `redis-cloud-hosting` runs the one-node
// topology (three-processes.test.ts) again in the WeChat Cloud Hosting mode
// (WXA_TEST_CLOUD_HOSTING=1): users log in from the gateway's X-WX-* headers,
// the client address is the gateway's X-Original-Forwarded-For, and WeChat's
// API goes through the open interface service (a relay of the test).
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BuiltPush } from '../../src/emulator/push'
import { type EmulatorClient, emulatorClient } from '../../src/testing-client'
import { png } from '../images'
import { type OpenApiRelay, startOpenApiRelay } from './open-api-relay'
import {
  APP_ID,
  type Caller,
  caller,
  clearOfWindowEdge,
  type NodeStack,
  startNodeStack,
} from './stack'

const CLOUD = process.env.WXA_TEST_CLOUD_HOSTING === '1'

/** What a replay must repeat: both tokens and their ends (`expiresIn` counts from each answer). */
const tokensOf = ({ body }: { body: any }) => ({
  token: body.token,
  refreshToken: body.refreshToken,
  expiresAt: body.expiresAt,
  refreshExpiresAt: body.refreshExpiresAt,
})

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
  loginAt(at: Caller, user: string): Promise<{ token: string; refreshToken: string; uid: string }>
}

export const codeOf = (reply: { body: any }) => reply.body?.error?.code ?? null
/** The client's address as the proxy in front sets it: nginx, or Cloud Hosting's gateway. */
const from = (at: string) => ({
  [CLOUD ? 'X-Original-Forwarded-For' : 'X-Forwarded-For']: at,
})
/** What Cloud Hosting's gateway adds to a callContainer request of `user`. */
const gateway = (user: string, unionid?: string) => ({
  'X-WX-SOURCE': 'wx_client',
  'X-WX-ENV': 'prod-test',
  'X-WX-OPENID': user,
  'X-WX-APPID': APP_ID,
  ...(unionid ? { 'X-WX-UNIONID': unionid } : {}),
})
/** Where the servers are reached from the internet: what avatar URLs are built on. */
const PUBLIC_URL = 'https://wxa.example'
/** A well-formed 1×1 PNG. */
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
)

/**
 * `POST /auth/profile` as wx.uploadFile sends it, over node:http so that the
 * Host header is ours to write; the body's last bytes wait for `hold`.
 */
function rawUpload(
  base: string,
  token: string,
  { host, hold, nickname }: { host?: string; hold?: Promise<void>; nickname?: string } = {},
): Promise<{ status: number; body: any }> {
  const boundary = `----wxa${randomBytes(6).toString('hex')}`
  const head = Buffer.from(
    (nickname
      ? `--${boundary}\r\nContent-Disposition: form-data; name="nickname"\r\n\r\n${nickname}\r\n`
      : '') +
      `--${boundary}\r\nContent-Disposition: form-data; name="avatar"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return new Promise((resolve, reject) => {
    const req = request(
      new URL('/auth/profile', base).href,
      {
        method: 'POST',
        headers: {
          Authorization: `JWT ${token}`,
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          'Content-Length': String(head.length + PNG_1X1.length + tail.length),
          ...(host ? { Host: host } : {}),
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
      },
    )
    req.on('error', reject)
    req.write(head)
    req.write(PNG_1X1)
    void (hold ?? Promise.resolve()).then(() => req.end(tail))
  })
}

/** The three-process suite against `topology`'s Redis; its state for the tests that follow. */
export function threeProcesses(topology: { start(): Promise<RedisSetup> }): Suite {
  let redis: RedisSetup
  let relay: OpenApiRelay | undefined
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
      vars: {
        ...redis.vars,
        IDENTITY: 'unionid',
        AVATARS_DIR: avatars,
        PUBLIC_URL,
        ...(CLOUD
          ? { CLOUD_HOSTING: 'wechat', CBR_ENV_ID: 'prod-test', WECHAT_OPEN_API: 'cloud-hosting' }
          : { TRUST_PROXY: '1' }),
      },
      besideEmulator: async (emulator, { WECHAT_APP_ID, WECHAT_APP_SECRET }) => {
        if (!CLOUD) return {} as Record<string, string>
        relay = await startOpenApiRelay({
          emulatorUrl: emulator.url,
          appId: WECHAT_APP_ID,
          appSecret: WECHAT_APP_SECRET,
        })
        return { WECHAT_API_BASE: relay.url }
      },
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
    await relay?.close()
    await redis?.dispose()
    if (avatars) await rm(avatars, { recursive: true, force: true })
  })

  async function loginAt(
    at: Caller,
    user: string,
    { unionid, device }: { unionid?: string; device?: Record<string, string> } = {},
  ) {
    // The emulator knows the user in both modes: a later code (account deletion) is theirs.
    const code = await emulator.loginCode(user, unionid ? { unionid } : {})
    const res = await at('/auth/login', {
      method: 'POST',
      json: { ...(CLOUD ? {} : { code }), ...(device ? { device } : {}) },
      headers: { ...from(address()), ...(CLOUD ? gateway(user, unionid) : {}) },
    })
    if (res.status !== 200) throw new Error(`login: ${res.status} ${JSON.stringify(res.body)}`)
    return {
      token: res.body.token as string,
      refreshToken: res.body.refreshToken as string,
      uid: res.body.user.id as string,
    }
  }

  /** `POST /auth/refresh` with the refresh token in the body, as 0.4 clients send it. */
  const refresh = (at: Caller, refreshToken: string) =>
    at('/auth/refresh', { method: 'POST', json: { refreshToken } })

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
      // session. One more field: the user's newest session_key (`key:wechat:<appid>`), sealed;
      // none after logins from the Cloud Hosting gateway's headers, which bring no key.
      expect(await db.hLen(userKey(newest.uid, 'sessions'))).toBe(CLOUD ? 50 : 51)
      const fields = await db.hKeys(userKey(newest.uid, 'sessions'))
      const keyField = fields.find((f) => f.startsWith('key:'))
      if (CLOUD) return expect(keyField).toBeUndefined()
      expect(keyField).toMatch(/^key:wechat:wx/)
      expect(await db.hGet(userKey(newest.uid, 'sessions'), keyField as string)).toMatch(/^v1\./)
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
    it('refresh in A; the older access token is refused in B, for writes and reads, and writes nothing', async () => {
      const { token: old, refreshToken } = await loginAt(a, openid())
      const refreshed = await refresh(a, refreshToken)
      expect(refreshed.status).toBe(200)
      const write = await b('/me/session', { method: 'PATCH', token: old, json: { stale: 1 } })
      expect(codeOf(write)).toBe('SESSION_EXPIRED')
      expect(codeOf(await c('/me', { token: old }))).toBe('SESSION_EXPIRED')
      const me = await c('/me', { token: refreshed.body.token })
      expect([me.status, me.body.session]).toEqual([200, {}])
    })

    it('a refused stale write ends nothing: the new token still reads and writes everywhere', async () => {
      const { token: old, refreshToken } = await loginAt(a, openid())
      const fresh = (await refresh(a, refreshToken)).body.token
      expect(codeOf(await b('/me/session', { method: 'PATCH', token: old, json: { x: 1 } }))).toBe(
        'SESSION_EXPIRED',
      )
      for (const at of [a, b, c]) expect((await at('/me', { token: fresh })).status).toBe(200)
      expect(
        (await b('/me/session', { method: 'PATCH', token: fresh, json: { y: 1 } })).status,
      ).toBe(200)
    })

    it('two refreshes of one refresh token at once, in A and B: the same answer (the grace), live', async () => {
      const { token, refreshToken } = await loginAt(a, openid())
      const [one, two] = await Promise.all([refresh(a, refreshToken), refresh(b, refreshToken)])
      expect([one.status, two.status]).toEqual([200, 200])
      expect(tokensOf(two)).toEqual(tokensOf(one))
      for (const at of [a, b, c])
        expect((await at('/me', { token: one.body.token })).status).toBe(200)
      expect(codeOf(await c('/me/session', { method: 'PATCH', token, json: { x: 1 } }))).toBe(
        'SESSION_EXPIRED',
      )
    })

    it('reuse of a refresh token whose successor was used ends the whole session (OAuth 2.1 practice)', async () => {
      const { refreshToken: old } = await loginAt(a, openid())
      const next = (await refresh(a, old)).body.refreshToken
      const fresh = (await refresh(b, next)).body.token
      expect(codeOf(await refresh(c, old))).toBe('TOKEN_REVOKED')
      expect(codeOf(await a('/me', { token: fresh }))).toBe('SESSION_EXPIRED')
    })
  })

  describe('M-1: an access token never yields a token, in any process', () => {
    it('a thief polling B and C sees an ended session, cannot refresh, and the replay is the same answer', async () => {
      const victim = await loginAt(a, openid())
      const ended = await loginAt(a, openid())
      await a('/auth/logout', { method: 'POST', token: ended.token })
      const endedAnswer = await c('/me', { token: ended.token })
      expect(codeOf(await b('/auth/refresh', { method: 'POST', token: victim.token }))).toBe(
        'AUTH_REQUIRED',
      )
      const refreshed = await refresh(a, victim.refreshToken)
      expect(refreshed.status).toBe(200)
      for (const at of [a, b, c]) {
        const polled = await at('/me', { token: victim.token })
        expect([polled.status, polled.body]).toEqual([endedAnswer.status, endedAnswer.body])
        for (const attempt of [
          await at('/auth/refresh', { method: 'POST', token: victim.token }),
          await refresh(at, victim.token),
        ]) {
          expect(attempt.status).toBe(401)
          expect(attempt.body.token).toBeUndefined()
        }
      }
      const replayed = await refresh(c, victim.refreshToken)
      expect(tokensOf(replayed)).toEqual(tokensOf(refreshed))
      expect((await b('/me', { token: refreshed.body.token })).status).toBe(200)
    })

    it('the refresh token is kept in Redis only as a hash', async () => {
      const { refreshToken, uid } = await loginAt(a, openid())
      const nonce = Buffer.from(refreshToken, 'base64url').toString().split('.')[1] as string
      const dump = JSON.stringify(await db.hGetAll(userKey(uid, 'sessions')))
      expect(dump).toContain('hash')
      expect(dump).not.toContain(nonce)
      expect(dump).not.toContain(refreshToken)
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
      await refresh(b, replaced.refreshToken)
      const byDead = await c('/auth/logout-all', { method: 'POST', token: dead.token })
      expect([byDead.status, codeOf(byDead)]).toEqual([401, 'SESSION_EXPIRED'])
      const byReplaced = await c('/auth/logout-all', { method: 'POST', token: replaced.token })
      expect([byReplaced.status, codeOf(byReplaced)]).toEqual([401, 'SESSION_EXPIRED'])
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
    /** A real PNG whose pixel data holds `text`. */
    const image = (text: string) => png(text)
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

  describe('trust: a forged Host, a deletion during an upload (M-2, M-3)', () => {
    const avatarFiles = async () =>
      (await readdir(avatars)).filter((name) => !name.endsWith('.type')).sort()

    it('M-3: a forged Host does not change the URL sent to media_check_async: PUBLIC_URL', async () => {
      const { token } = await loginAt(a, openid())
      const [nodeA] = stack.servers.map((server) => server.url) as [string]
      const res = await rawUpload(nodeA, token, { host: 'attacker.example' })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      const key = new URL(res.body.profile.avatarUrl).pathname.split('/').pop()
      expect(res.body.profile.avatarUrl).toBe(`${PUBLIC_URL}/auth/avatars/${key}`)
      const pending = await emulator.request('GET', '/media-checks')
      const { checks } = (await pending.json()) as { checks: { mediaUrl: string }[] }
      const sent = checks.map((check) => check.mediaUrl).filter((url) => url.endsWith(`/${key}`))
      expect(sent).toEqual([`${PUBLIC_URL}/auth/avatars/${key}`])
    })

    it('M-2: an upload still sending when another process deletes the account is 401; nothing stays', async () => {
      const user = openid()
      const { token, uid } = await loginAt(a, user)
      const before = await avatarFiles()
      let release = () => {}
      const hold = new Promise<void>((resolve) => {
        release = resolve
      })
      const [nodeA] = stack.servers.map((server) => server.url) as [string]
      const upload = rawUpload(nodeA, token, { hold, nickname: 'Ghost' })
      // The upload is past its login check, waiting for the rest of its body.
      await new Promise((resolve) => setTimeout(resolve, 300))
      const code = await emulator.loginCode(user)
      const deleted = await b('/auth/account', { method: 'DELETE', token, json: { code } })
      expect(deleted.status, JSON.stringify(deleted.body)).toBe(200)
      release()
      const res = await upload
      expect([res.status, res.body?.error?.code]).toEqual([401, 'SESSION_EXPIRED'])
      expect(await avatarFiles()).toEqual(before)
      expect(await db.exists(userKey(uid, 'profile'))).toBe(0)
      const again = await loginAt(c, user)
      expect(again.uid).toBe(uid)
      expect((await c('/auth/profile', { token: again.token })).body.profile).toEqual({
        nickname: null,
        avatarUrl: null,
      })
    })
  })

  describe('each push is acted on once across processes (M-5)', () => {
    let hooked: NodeStack
    let hookDir: string
    let hookEmulator: EmulatorClient
    let callers: Caller[]
    beforeAll(async () => {
      hookDir = await mkdtemp(join(tmpdir(), 'wxa-hooks-'))
      hooked = await startNodeStack({
        servers: 3,
        script: 'test/node/hooked-server.mjs',
        vars: { ...redis.vars, TRUST_PROXY: '1', HOOK_LOG: join(hookDir, 'runs'), HOOK_MS: '400' },
      })
      hookEmulator = emulatorClient(hooked.emulator.url)
      callers = hooked.servers.map((server) => caller(server.url))
    }, 60_000)
    afterAll(async () => {
      await hooked?.dispose()
      if (hookDir) await rm(hookDir, { recursive: true, force: true })
    })
    const runs = async (user: string) =>
      (await readFile(join(hookDir, 'runs'), 'utf8').catch(() => ''))
        .split('\n')
        .filter((line) => line === user).length
    async function cancellations(user: string, n: number): Promise<BuiltPush[]> {
      const createTime = Math.floor(Date.now() / 1000)
      return Promise.all(
        Array.from({ length: n }, async () => {
          const res = await hookEmulator.request('POST', '/push', {
            openid: user,
            event: 'user_authorization_cancellation',
            createTime,
          })
          expect(res.status).toBe(200)
          return (await res.json()) as BuiltPush
        }),
      )
    }
    const deliver = (at: Caller, built: BuiltPush) =>
      at(`/wechat/events?${built.query}`, {
        method: 'POST',
        body: built.body,
        headers: { 'Content-Type': built.contentType },
      })
    async function loggedIn(user: string) {
      const code = await hookEmulator.loginCode(user)
      const at = callers[0] as Caller
      const res = await at('/auth/login', {
        method: 'POST',
        json: { code },
        headers: { 'X-Forwarded-For': address() },
      })
      expect(res.status).toBe(200)
      return res.body.token as string
    }

    it('4 simultaneous deliveries of one cancellation, to three processes, run the hook once', async () => {
      const user = openid()
      const token = await loggedIn(user)
      const pushes = await cancellations(user, 4)
      const answers = await Promise.all(
        pushes.map((built, i) => deliver(callers[i % 3] as Caller, built)),
      )
      expect(await runs(user)).toBe(1)
      expect(answers.filter((answer) => answer.body === 'success')).toHaveLength(1)
      for (const answer of answers.filter((answer) => answer.body !== 'success')) {
        expect([answer.status, codeOf(answer)]).toEqual([503, 'EVENT_IN_PROGRESS'])
      }
      // WeChat's retries, later, at any process: done, not run again.
      for (const [i, built] of pushes.entries()) {
        expect((await deliver(callers[(i + 1) % 3] as Caller, built)).body).toBe('success')
      }
      expect(await runs(user)).toBe(1)
      for (const at of callers) expect(codeOf(await at('/me', { token }))).toBe('SESSION_EXPIRED')
    })

    it('a hook that throws in one process lets the retry at another run it', async () => {
      const user = `fail-${openid()}`
      await loggedIn(user)
      const [first, retry] = (await cancellations(user, 2)) as [BuiltPush, BuiltPush]
      expect((await deliver(callers[0] as Caller, first)).status).toBeGreaterThanOrEqual(500)
      expect((await deliver(callers[1] as Caller, retry)).body).toBe('success')
      expect(await runs(user)).toBe(2)
      expect((await deliver(callers[2] as Caller, first)).body).toBe('success')
      expect(await runs(user)).toBe(2)
    })
  })

  describe('what Redis keeps', () => {
    it('every key of a user expires (PEXPIREAT): the sessions with the last, the index with its identities', async () => {
      const user = openid()
      const { token, uid } = await loginAt(a, user)
      const { expiresAt } = (await a('/auth/sessions', { token })).body.sessions[0]
      const at = Date.parse(expiresAt)
      const sessions = userKey(uid, 'sessions')
      expect(Math.abs((await db.pExpireTime(sessions)) - at)).toBeLessThan(1000)
      // The identity index outlives the identities it lists (M-4), which outlive the sessions.
      const identity = await db.pExpireTime(`wxa:identity:${APP_ID}:${user}`)
      expect(identity).toBeGreaterThan(at)
      expect(await db.pExpireTime(userKey(uid, 'identities'))).toBeGreaterThanOrEqual(identity)
      // The login's audit record is written after its answer: wait for it.
      for (let i = 0; i < 50 && !(await db.exists(userKey(uid, 'audit'))); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const owned = await db.keys(`wxa:{${encodeURIComponent(uid)}}:*`)
      // With the directory's entry (user data) and the audit log's stream of the user.
      expect(owned.sort()).toEqual(
        ['audit', 'dir', 'identities', 'sessions'].map((name) => userKey(uid, name)),
      )
      expect(await db.pTTL(userKey(uid, 'audit'))).toBeGreaterThan(179 * 24 * 60 * 60 * 1000)
      // No key without an expiry but the owed index, and user data: profiles, the
      // directory (deleted with the account) and the audit log's indexes of days and users.
      const userData = /^wxa:(owed|audit:days|audit:users|dir:.*|\{.*\}:(profile|dir))$/
      for (const key of await db.keys('wxa:*')) {
        if (userData.test(key)) continue
        expect(await db.pTTL(key), key).toBeGreaterThan(0)
      }
    })

    it('the login limit is one counter for all processes (fixed window, a minute)', async () => {
      await clearOfWindowEdge()
      const headers = from(`203.0.113.${1 + Math.floor(Math.random() * 250)}`)
      const statuses: number[] = []
      for (let i = 0; i < 31; i++) {
        const at = [a, b, c][i % 3] as Caller
        statuses.push((await at('/auth/login', { method: 'POST', json: {}, headers })).status)
      }
      // No code: 400; in the Cloud Hosting mode no gateway headers either: 401.
      expect(statuses.slice(0, 30).every((s) => s === (CLOUD ? 401 : 400))).toBe(true)
      expect(statuses[30]).toBe(429)
    })
  })

  describe.skipIf(CLOUD)('without CLOUD_HOSTING', () => {
    it("ignores the X-WX-* headers: no code is a 400, a code logs in the code's user", async () => {
      const named = openid()
      const real = openid()
      const headers = { ...from(address()), ...gateway(named) }
      const bare = await a('/auth/login', { method: 'POST', json: {}, headers })
      expect([bare.status, codeOf(bare)]).toEqual([400, 'INVALID_REQUEST'])
      const code = await emulator.loginCode(real)
      const res = await b('/auth/login', { method: 'POST', json: { code }, headers })
      expect([res.status, res.body.user.openid]).toEqual([200, real])
      expect(await db.exists(`wxa:identity:${APP_ID}:${named}`)).toBe(0)
      const deletion = await c('/auth/account', {
        method: 'DELETE',
        token: res.body.token,
        json: {},
        headers: gateway(real),
      })
      expect([deletion.status, codeOf(deletion)]).toEqual([400, 'INVALID_REQUEST'])
    })
  })

  describe.runIf(CLOUD)('the Cloud Hosting mode (CLOUD_HOSTING=wechat)', () => {
    const login = (at: Caller, headers: Record<string, string>, json: object = {}) =>
      at('/auth/login', { method: 'POST', json, headers: { ...from(address()), ...headers } })

    it('three users from the gateway headers, one per process, each a device the others see', async () => {
      const users = [openid(), openid(), openid()]
      const unionid = `union-${randomBytes(6).toString('hex')}`
      const hints = ['ios', 'android', 'windows']
      const tokens: string[] = []
      for (const [i, at] of [a, b, c].entries()) {
        const user = users[i] as string
        const res = await login(at, gateway(user, i === 0 ? unionid : undefined), {
          device: { platform: hints[i] },
        })
        expect(res.status, JSON.stringify(res.body)).toBe(200)
        expect(res.body).toMatchObject({ token: expect.any(String), expiresIn: expect.any(Number) })
        expect(res.body.user).toMatchObject({ openid: user, platform: 'wechat' })
        tokens.push(res.body.token)
      }
      const [first] = await Promise.all([b('/me', { token: tokens[0] })])
      expect(first.body.user).toMatchObject({ openid: users[0], unionid })
      for (const [i, at] of [b, c, a].entries()) {
        const list = await at('/auth/sessions', { token: tokens[i] })
        expect(list.body.sessions).toHaveLength(1)
        expect(list.body.sessions[0].device).toMatchObject({ platform: hints[i] })
      }
      // IDENTITY=unionid: the unionid the gateway sent is the user's link.
      expect(await db.exists(`wxa:unionid:${unionid}`)).toBe(1)
    })

    it("a login with a code is an ordinary login: the code's user, whatever the headers say", async () => {
      const named = openid()
      const real = openid()
      const res = await login(b, gateway(named), { code: await emulator.loginCode(real) })
      expect([res.status, res.body.user?.openid]).toEqual([200, real])
    })

    it('reads the header names in any case', async () => {
      const user = openid()
      const lower = Object.fromEntries(
        Object.entries(gateway(user)).map(([name, value]) => [name.toLowerCase(), value]),
      )
      const res = await login(a, lower)
      expect([res.status, res.body.user?.openid]).toEqual([200, user])
    })

    it('refuses a request without X-WX-SOURCE: it did not come through callContainer', async () => {
      const user = openid()
      const { 'X-WX-SOURCE': _source, ...forged } = gateway(user)
      const res = await login(b, forged)
      expect([res.status, codeOf(res)]).toEqual([401, 'CLOUD_IDENTITY_MISSING'])
      expect(await db.exists(`wxa:identity:${APP_ID}:${user}`)).toBe(0)
    })

    it('refuses an X-WX-APPID this server does not serve', async () => {
      const user = openid()
      const res = await login(c, { ...gateway(user), 'X-WX-APPID': 'wx00000000forged00' })
      expect([res.status, codeOf(res)]).toEqual([400, 'UNKNOWN_APP'])
      const other = await login(c, gateway(user), { appId: 'wx00000000forged00' })
      expect([other.status, codeOf(other)]).toEqual([400, 'UNKNOWN_APP'])
    })

    it('resource reuse: X-WX-FROM-* name the user of the mini program that uses the environment', async () => {
      const user = openid()
      const res = await login(a, {
        'X-WX-SOURCE': 'wx_client',
        'X-WX-APPID': 'wx0000000000owner1', // the environment's own account, not served here
        'X-WX-FROM-OPENID': user,
        'X-WX-FROM-APPID': APP_ID,
      })
      expect([res.status, res.body.user?.openid]).toEqual([200, user])
      expect(await db.exists(`wxa:identity:${APP_ID}:${user}`)).toBe(1)
    })

    it("deletes an account confirmed by the gateway's headers of the same user, not another's", async () => {
      const user = openid()
      const res = await login(a, gateway(user))
      const { token } = res.body
      const forged = await b('/auth/account', {
        method: 'DELETE',
        token,
        json: {},
        headers: gateway(openid()),
      })
      expect([forged.status, codeOf(forged)]).toEqual([403, 'REAUTH_REQUIRED'])
      const bare = await b('/auth/account', { method: 'DELETE', token, json: {} })
      expect([bare.status, codeOf(bare)]).toEqual([401, 'CLOUD_IDENTITY_MISSING'])
      expect((await c('/me', { token })).status).toBe(200)
      const gone = await c('/auth/account', {
        method: 'DELETE',
        token,
        json: {},
        headers: gateway(user),
      })
      expect([gone.status, gone.body]).toEqual([200, { ok: true }])
      expect(codeOf(await a('/me', { token }))).toBe('SESSION_EXPIRED')
      expect(await db.exists(`wxa:identity:${APP_ID}:${user}`)).toBe(0)
    })

    it('a header login has no session_key: decrypt asks for a wx.login code, then keeps its key', async () => {
      const user = openid()
      await emulator.loginCode(user) // the user has opened the mini program
      const { token } = (await login(a, gateway(user))).body
      const { encryptedData, iv } = await emulator.userData(user, { stepInfoList: [{ step: 7 }] })
      const asked = await b('/auth/decrypt', { method: 'POST', token, json: { encryptedData, iv } })
      expect([asked.status, codeOf(asked)]).toEqual([409, 'LOGIN_CODE_REQUIRED'])
      const foreign = await emulator.loginCode(openid())
      const wrong = await c('/auth/decrypt', {
        method: 'POST',
        token,
        json: { encryptedData, iv, code: foreign },
      })
      expect([wrong.status, codeOf(wrong)]).toEqual([403, 'REAUTH_REQUIRED'])
      const code = await emulator.loginCode(user)
      const opened = await c('/auth/decrypt', {
        method: 'POST',
        token,
        json: { encryptedData, iv, code },
      })
      expect([opened.status, opened.body.data]).toEqual([200, { stepInfoList: [{ step: 7 }] }])
      const again = await a('/auth/decrypt', { method: 'POST', token, json: { encryptedData, iv } })
      expect(again.status).toBe(200)
      // A later key at WeChat: checksession through the open interface service says stale.
      await emulator.rotateSessionKey(user)
      const newer = await emulator.userData(user, { stepInfoList: [] })
      const stale = await b('/auth/decrypt', {
        method: 'POST',
        token,
        json: { encryptedData: newer.encryptedData, iv: newer.iv },
      })
      expect([stale.status, codeOf(stale)]).toEqual([409, 'SESSION_KEY_STALE'])
    })

    it('calls WeChat through the open interface service: plain http, no access token, no stable_token', async () => {
      const user = openid()
      await emulator.loginCode(user)
      const phoneCode = await emulator.phoneCode(user, '+8613800000001')
      const res = await login(b, gateway(user), { phoneCode })
      expect([res.status, res.body.phone?.purePhoneNumber]).toEqual([200, '13800000001'])
      const { token } = res.body
      const again = await emulator.phoneCode(user, '+8613800000002')
      const asked = await c('/auth/phone', { method: 'POST', token, json: { code: again } })
      expect([asked.status, asked.body.phone?.purePhoneNumber]).toEqual([200, '13800000002'])
      const calls = relay?.calls ?? []
      const paths = new Set(calls.map((call) => call.path))
      // The profile tests above checked a nickname and an avatar, the decrypt test a session_key.
      for (const path of [
        '/wxa/business/getuserphonenumber',
        '/wxa/msg_sec_check',
        '/wxa/media_check_async',
        '/wxa/checksession',
      ]) {
        expect(paths).toContain(path)
      }
      expect(paths).not.toContain('/cgi-bin/stable_token')
      for (const call of calls) {
        expect(call.query.access_token, call.path).toBeUndefined()
        if (call.path !== '/sns/jscode2session') expect(call.query.from_appid).toBe(APP_ID)
      }
    })

    it("counts the login limit per user address, from the gateway's X-Original-Forwarded-For", async () => {
      const crowded = `198.51.100.${1 + Math.floor(Math.random() * 250)}`
      const statuses: number[] = []
      for (let i = 0; i < 31; i++) {
        const at = [a, b, c][i % 3] as Caller
        const res = await at('/auth/login', {
          method: 'POST',
          json: {},
          // Every request reaches the server from the gateway; X-Forwarded-For is not the client's.
          headers: { ...gateway(openid()), ...from(crowded), 'X-Forwarded-For': '10.0.0.1' },
        })
        statuses.push(res.status)
      }
      expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true)
      expect(statuses[30]).toBe(429)
      const elsewhere = await login(a, gateway(openid()))
      expect(elsewhere.status).toBe(200)
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
