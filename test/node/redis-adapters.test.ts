// The Redis adapters of wxa-auth/node against a real Redis of the test's
// own, each "process" a connection of its own: owed deletes that outlive the
// process that owed them, the keys' expiries, the profile's, claims, the
// sealed records, the rate limit, a one-node cluster (every transaction in
// one slot), and the avatar directory.
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryObjects } from '../../src/runtime/memory/objects'
import { redisAuthority } from '../../src/runtime/node/authority'
import { redisClaims } from '../../src/runtime/node/claims'
import { redisKv } from '../../src/runtime/node/kv'
import { directoryObjects } from '../../src/runtime/node/objects'
import { redisLimiter } from '../../src/runtime/node/rate-limit'
import { type RedisConnection, redisConnection } from '../../src/runtime/node/redis'
import { INDEX_MARGIN } from '../../src/runtime/node/transact'
import { IDENTITY_SLACK, identityStore } from '../../src/session/identities'
import type { SessionPolicy, SessionRecord } from '../../src/session/record'
import { createCipher } from '../../src/storage/cipher'
import { identityKey } from '../../src/storage/keys'
import type { ObjectStore } from '../../src/storage/objects'
import { sealedKv } from '../../src/storage/sealed-kv'
import { type RedisServer, startRedis } from './redis-server'

const POLICY: SessionPolicy = { ttl: 3600, maxAge: 7200, maxBytes: 1024, maxSessions: 3, grace: 30 }
const quiet = { error: () => {}, warn: () => {} }
const now = () => Math.floor(Date.now() / 1000)
let n = 0
const uid = () => `u-${++n}-${Math.random().toString(36).slice(2, 8)}`

const record = (user: string, at: number, extra: Partial<SessionRecord> = {}): SessionRecord => ({
  v: 1,
  uid: user,
  appId: 'wxapp',
  openid: `o-${user}`,
  createdAt: at,
  createdAtMs: at * 1000 + Math.random(),
  refreshedAt: at,
  expiresAt: at + POLICY.ttl,
  gen: 0,
  data: {},
  ...extra,
})

const avatar = (key: string) => ({
  key,
  type: 'image/png' as const,
  bytes: 1,
  check: 'pass' as const,
})

let redis: RedisServer
let db: ReturnType<typeof createClient>
const opened: RedisConnection[] = []
const connect = () => {
  const connection = redisConnection(redis.url, { log: quiet })
  opened.push(connection)
  return connection
}
const sealed = (connection: RedisConnection) =>
  sealedKv(redisKv(connection, 'wxa:'), createCipher('Vq3xT9mR2kLp8sWz4nYb7cHf1dJg6aEu-redis'))

beforeAll(async () => {
  redis = await startRedis()
  db = createClient({ url: redis.url })
  await db.connect()
})

afterAll(async () => {
  for (const connection of opened) await connection.close()
  await db?.close()
  await redis?.dispose()
})

const userKey = (user: string, part: string) => `wxa:{${encodeURIComponent(user)}}:${part}`

describe('the outbox', () => {
  it('an avatar let go of by a process that fails to delete it is deleted by another one', async () => {
    const objects = memoryObjects()
    await objects.put('a1', new Uint8Array([1]), 'image/png')
    await objects.put('a2', new Uint8Array([2]), 'image/png')
    const broken: ObjectStore = {
      ...objects,
      delete: async () => {
        throw new Error('the disk is gone')
      },
    }
    // Process 1 replaces the avatar, commits, and cannot delete the old one (as if it died).
    const one = connect()
    const first = redisAuthority({
      connection: one,
      prefix: 'wxa:',
      sealed: sealed(one),
      objects: broken,
      log: quiet,
    })
    const user = uid()
    await first.updateProfile(user, { avatar: avatar('a1') }, now())
    await first.updateProfile(user, { avatar: avatar('a2') }, now())
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await db.sMembers(userKey(user, 'owed'))).toEqual(['avatar:a1'])
    expect(await db.zScore('wxa:owed', user)).not.toBeNull()
    expect(await objects.get('a1')).not.toBeNull()
    // Process 2 never heard of it: its sweeper finds the user in the index.
    const two = connect()
    const second = redisAuthority({
      connection: two,
      prefix: 'wxa:',
      sealed: sealed(two),
      objects,
      log: quiet,
      sweep: { ageMs: 0 },
    })
    expect(await second.outbox.sweep()).toBeGreaterThanOrEqual(1)
    expect(await objects.get('a1')).toBeNull()
    expect(await objects.get('a2')).not.toBeNull()
    expect(await db.exists(userKey(user, 'owed'))).toBe(0)
    expect(await db.zScore('wxa:owed', user)).toBeNull()
  })

  // What forget does in every store is in the store suite (test/stores/suite.ts); here, Redis's keys.
  it('the profile key never expires, and forget deletes it', async () => {
    const connection = connect()
    const authority = redisAuthority({
      connection,
      prefix: 'wxa:',
      sealed: sealed(connection),
      objects: undefined,
      log: quiet,
    })
    const user = uid()
    const at = now()
    await authority.login(user, 's1', record(user, at), 'h0', POLICY, at)
    await authority.updateProfile(user, { nickname: { value: 'A', check: 'pass' } }, at)
    expect(await db.pTTL(userKey(user, 'profile'))).toBe(-1) // user data: no expiry
    await authority.forget(user, at + 1)
    expect(await db.exists(userKey(user, 'profile'))).toBe(0)
  })
})

describe('keys and expiries', () => {
  it('M-4: an idle user logs in through app A and deletes the account: app B’s identity goes too', async () => {
    const connection = connect()
    const kv = sealed(connection)
    const identities = identityStore(kv)
    const authority = redisAuthority({
      connection,
      prefix: 'wxa:',
      sealed: kv,
      objects: undefined,
      log: quiet,
    })
    const user = uid()
    const policy = { ...POLICY, ttl: 1, maxAge: 60 }
    const unionid = `un-${user}`
    // App B, long ago: its identity lives SESSION_MAX_AGE and a day, its session 1 s.
    let at = now()
    await identities.put(
      'wxB',
      `oB-${user}`,
      {
        v: 1,
        uid: user,
        unionid,
        updatedAt: at,
        expiresAt: at + policy.maxAge + IDENTITY_SLACK,
      },
      'wechat',
    )
    const b = record(user, at, { appId: 'wxB', openid: `oB-${user}`, unionid, expiresAt: at + 1 })
    await authority.login(user, 'b', b, 'h0', policy, at)
    const bKey = `wxa:${identityKey('wxB', `oB-${user}`, 'wechat')}`
    expect(await db.pExpireTime(userKey(user, 'identities'))).toBeGreaterThanOrEqual(
      await db.pExpireTime(bKey),
    )
    // Idle: the session is over and gone from Redis.
    await new Promise((resolve) => setTimeout(resolve, 2100))
    expect(await db.exists(userKey(user, 'sessions'))).toBe(0)
    expect(await identities.get('wxB', `oB-${user}`, 'wechat')).not.toBeNull()
    // App A now, then the account is deleted.
    at = now()
    const a = record(user, at, { appId: 'wxA', openid: `oA-${user}`, unionid, expiresAt: at + 1 })
    await authority.login(user, 'a', a, 'h0', policy, at)
    expect(await db.sMembers(userKey(user, 'identities'))).toEqual(
      expect.arrayContaining([
        identityKey('wxB', `oB-${user}`, 'wechat'),
        identityKey('wxA', `oA-${user}`, 'wechat'),
      ]),
    )
    await authority.forget(user, now())
    expect(await identities.get('wxB', `oB-${user}`, 'wechat')).toBeNull()
    expect(await db.exists(bKey)).toBe(0)
    expect(await db.exists(userKey(user, 'identities'))).toBe(0)
  })

  it('the sessions expire at the last row’s expiry, the identity index with its identities; rows past theirs go at the next write', async () => {
    const connection = connect()
    const authority = redisAuthority({
      connection,
      prefix: 'wxa:',
      sealed: sealed(connection),
      objects: undefined,
      log: quiet,
    })
    const user = uid()
    const at = now()
    await authority.login(user, 'short', record(user, at, { expiresAt: at + 1 }), 'h0', POLICY, at)
    await authority.login(user, 'long', record(user, at + 1), 'h0', POLICY, at)
    expect(await db.pExpireTime(userKey(user, 'sessions'))).toBe((at + 1 + POLICY.ttl) * 1000)
    // As long as the identity a login writes: SESSION_MAX_AGE and a day.
    expect(await db.pExpireTime(userKey(user, 'identities'))).toBe(
      (at + POLICY.maxAge + IDENTITY_SLACK + INDEX_MARGIN) * 1000,
    )
    await new Promise((resolve) => setTimeout(resolve, 2100))
    await authority.write(user, 'long', 0, { set: [['k', 1]], delete: [] }, POLICY, now())
    expect(await db.hKeys(userKey(user, 'sessions'))).toEqual(['long'])
  })

  it('the login cap is exact under parallel logins from three connections', async () => {
    const connections = [connect(), connect(), connect()]
    const authorities = connections.map((connection) =>
      redisAuthority({
        connection,
        prefix: 'wxa:',
        sealed: sealed(connection),
        objects: undefined,
        log: quiet,
      }),
    )
    const user = uid()
    const at = now()
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        authorities[i % 3]?.login(
          user,
          `s${i}`,
          record(user, at, { createdAtMs: at * 1000 + i }),
          'h0',
          POLICY,
          at,
        ),
      ),
    )
    expect((await authorities[0]?.list(user, at))?.map((s) => s.id)).toEqual(['s29', 's28', 's27'])
  })
})

describe('claims, sealed records, the rate limit', () => {
  it('claim: null for the first, the holder’s tag after; swap only by the holder; expiry as PX', async () => {
    const claims = redisClaims(connect(), 'wxa:')
    expect(await claims.claim('scope', 'id-1', 'tag-a', 60, now())).toBeNull()
    expect(await claims.claim('scope', 'id-1', 'tag-b', 60, now())).toBe('tag-a')
    expect(await claims.swap('scope', 'id-1', 'tag-b', 'done', 900, now())).toBe(false)
    expect(await claims.swap('scope', 'id-1', 'tag-a', 'done', 900, now())).toBe(true)
    expect(await claims.claim('scope', 'id-1', 'tag-c', 60, now())).toBe('done')
    const ttl = await db.pTTL('wxa:claim:scope:id-1')
    expect(ttl).toBeGreaterThan(899_000)
    expect(ttl).toBeLessThanOrEqual(900_000)
    // A holder lets go: the next claim is free.
    expect(await claims.claim('scope', 'id-2', 'tag-a', 60, now())).toBeNull()
    expect(await claims.swap('scope', 'id-2', 'tag-a', null, 0, now())).toBe(true)
    expect(await claims.swap('scope', 'id-2', 'tag-a', null, 0, now())).toBe(false)
    expect(await claims.claim('scope', 'id-2', 'tag-b', 60, now())).toBeNull()
  })

  it('KvStore: strings with PX, listed by a prefix that SCAN would read as a pattern', async () => {
    const kv = redisKv(connect(), 'wxa:')
    await kv.put('identity:w*x:[a]', 'one', 120)
    await kv.put('identity:w*x:b', 'two', 120)
    await kv.put('identity:wyx:c', 'three', 120)
    expect(await kv.get('identity:w*x:[a]')).toBe('one')
    expect((await kv.list('identity:w*x:')).sort()).toEqual(['identity:w*x:[a]', 'identity:w*x:b'])
    expect(await db.pTTL('wxa:identity:w*x:b')).toBeGreaterThan(119_000)
    await kv.delete('identity:w*x:b')
    expect(await kv.get('identity:w*x:b')).toBeNull()
  })

  it('the rate limit is one counter for every connection', async () => {
    const [one, two] = [
      redisLimiter(connect(), 'wxa:', { limit: 3 }),
      redisLimiter(connect(), 'wxa:', { limit: 3 }),
    ]
    const key = `login:test-${uid()}`
    const answers = [
      await one.limit(key),
      await two.limit(key),
      await one.limit(key),
      await two.limit(key),
    ]
    expect(answers).toEqual([true, true, true, false])
  })
})

describe('a client of your own', () => {
  it('node-redis createClient() is taken as it is, connected here, and left open', async () => {
    const client = createClient({ url: redis.url })
    const connection = redisConnection(client, { log: quiet })
    const kv = redisKv(connection, 'own:')
    await kv.put('identity:a', 'v', 60)
    expect(await kv.get('identity:a')).toBe('v')
    const authority = redisAuthority({
      connection,
      prefix: 'own:',
      sealed: sealed(connection),
      objects: undefined,
      log: quiet,
    })
    const at = now()
    await authority.login('own-user', 's', record('own-user', at), 'h0', POLICY, at)
    expect(await authority.read('own-user', 's', at)).toMatchObject({ uid: 'own-user' })
    await connection.close()
    expect(client.isOpen).toBe(true) // yours to close
    await client.close()
  })
})

describe('a cluster (one node owning every slot)', () => {
  let cluster: RedisServer
  beforeAll(async () => {
    cluster = await startRedis({ cluster: true })
  })
  afterAll(() => cluster?.dispose())

  it('runs every transaction in one slot: the {uid} hash tags', async () => {
    const connection = redisConnection(cluster.url, { log: quiet })
    opened.push(connection)
    const kv = sealed(connection)
    const objects = memoryObjects()
    await objects.put('c1', new Uint8Array([1]), 'image/png')
    const authority = redisAuthority({
      connection,
      prefix: 'wxa:',
      sealed: kv,
      objects,
      log: quiet,
    })
    const user = uid()
    const at = now()
    await authority.login(user, 's', record(user, at), 'h0', POLICY, at)
    expect(
      await authority.write(user, 's', 0, { set: [['a', 1]], delete: [] }, POLICY, at),
    ).toMatchObject({ ok: true })
    expect(
      await authority.refresh(user, 's', { gen: 0, hash: 'h0', next: 'h1' }, POLICY, at),
    ).toMatchObject({ ok: true })
    await authority.updateProfile(user, { avatar: avatar('c1') }, at)
    await authority.updateProfile(user, { avatar: null }, at)
    expect(await authority.forget(user, at)).toEqual(['s'])
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(objects.size).toBe(0)
    expect(await redisClaims(connection, 'wxa:').claim('s', 'i', 't', 60, at)).toBeNull()
    expect(await redisLimiter(connection, 'wxa:', { limit: 1 }).limit('login:x')).toBe(true)
  })

  it('refuses a transaction over two users’ keys (the check can fail)', async () => {
    const client = createClient({ url: cluster.url })
    await client.connect()
    try {
      await expect(
        client
          .multi()
          .addCommand(['SET', userKey('a', 'profile'), '1'])
          .addCommand(['SET', userKey('b', 'profile'), '1'])
          .exec(),
      ).rejects.toThrow(/CROSSSLOT|EXECABORT/)
    } finally {
      await client.close()
    }
  })
})

describe('the avatar directory', () => {
  it('writes whole files by rename, reads them with their type, deletes both', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wxa-avatars-'))
    try {
      const objects = directoryObjects(join(dir, 'avatars'))
      const bytes = new Uint8Array(256 * 1024).fill(7)
      const reads = Array.from({ length: 20 }, () => objects.get('../k/ey'))
      await objects.put('../k/ey', bytes, 'image/webp')
      for (const found of await Promise.all(reads)) {
        // Before the rename: nothing; after it: all of it.
        if (found) expect(found.size).toBe(bytes.length)
      }
      const found = await objects.get('../k/ey')
      expect([found?.type, found?.size]).toEqual(['image/webp', bytes.length])
      expect(
        (await readdir(join(dir, 'avatars'))).filter((name) => name.startsWith('.tmp-')),
      ).toEqual([])
      expect(existsSync(join(dir, 'k'))).toBe(false) // the key is a name, never a path
      await objects.delete('../k/ey')
      expect(await objects.get('../k/ey')).toBeNull()
      expect(await readdir(join(dir, 'avatars'))).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
