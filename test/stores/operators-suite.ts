// One behaviour for every directory and audit log: the same describe runs over
// memory (test/unit/operators-memory.test.ts), D1 inside workerd
// (test/stores/operators-d1.test.ts) and Redis (test/node/operators-redis.test.ts).
// No node: imports here: workerd loads this file too.
import { describe, expect, it } from 'vitest'
import type {
  AuditLog,
  AuditRecord,
  AuditSettings,
  AuditType,
  Directory,
  DirectoryEntry,
  StoredAuditRecord,
} from '../../src/operators/ports'

export interface OperatorStoresUnderTest {
  directory: Directory
  /**
   * An audit log over the suite's one backend, with its own retention and
   * clock: two logs made here see the same records.
   */
  audit(settings: AuditSettings): AuditLog
}

const DAY = 24 * 60 * 60 * 1000
const MINUTE = 60 * 1000

/** A user id of its own per test: stores that outlive a test never mix them. */
const newUid = (tag = 'u') => `${tag}-${crypto.randomUUID()}`

/**
 * A start of day of its own per test, far from every other test's and in
 * increasing order: a purge by a later test deletes only what is done with.
 */
let days = 0
const newDay = () => Date.UTC(2031, 0, 1) + (days++ * 400 + Math.floor(Math.random() * 50)) * DAY

const entry = (uid: string, extra: Partial<DirectoryEntry> = {}): DirectoryEntry => ({
  uid,
  platform: 'wechat',
  appId: 'wxapp',
  openid: `o-${uid}`,
  updatedAt: 1_800_000_000,
  ...extra,
})

/** Every record `filter` finds, page by page of `limit`, with how many pages it took. */
async function readAll(
  log: AuditLog,
  filter: Parameters<AuditLog['query']>[0],
  limit: number,
): Promise<{ records: StoredAuditRecord[]; pages: number }> {
  const records: StoredAuditRecord[] = []
  let cursor: string | undefined
  let pages = 0
  do {
    const page = await log.query(filter, { limit, ...(cursor ? { cursor } : {}) })
    records.push(...page.records)
    cursor = page.cursor
    pages++
    if (pages > 1000) throw new Error('no end to the pages')
  } while (cursor)
  return { records, pages }
}

const strip = ({ id: _, ...record }: StoredAuditRecord): AuditRecord => record

/**
 * Registers the suite: one `describe` holding `make()`'s directory and audit
 * log to the behaviour of the ports in src/operators/ports.ts.
 */
export function operatorStoresSuite(
  name: string,
  make: () => OperatorStoresUnderTest | Promise<OperatorStoresUnderTest>,
) {
  describe(`the directory: ${name}`, () => {
    it('finds a user by id, openid (with and without app), unionid and phone hash', async () => {
      const { directory } = await make()
      const uid = newUid()
      const unionid = newUid('un')
      const phone = `ph-${crypto.randomUUID()}`
      await directory.put(entry(uid, { unionid }))
      await directory.put(entry(uid, { appId: 'wxweb', openid: `w-${uid}`, platform: 'wechat' }))
      await directory.putPhone(uid, phone, 1_800_000_000)
      const user = await directory.get(uid)
      expect(user).toEqual({
        uid,
        identities: [
          entry(uid, { appId: 'wxapp', unionid }),
          entry(uid, { appId: 'wxweb', openid: `w-${uid}` }),
        ],
        phone: true,
      })
      const one = { users: [user] }
      expect(await directory.find({ uid }, { limit: 10 })).toEqual(one)
      expect(await directory.find({ openid: `o-${uid}` }, { limit: 10 })).toEqual(one)
      expect(await directory.find({ openid: `o-${uid}`, appId: 'wxapp' }, { limit: 10 })).toEqual(
        one,
      )
      expect(await directory.find({ openid: `w-${uid}`, appId: 'wxweb' }, { limit: 10 })).toEqual(
        one,
      )
      expect(await directory.find({ unionid }, { limit: 10 })).toEqual(one)
      expect(await directory.find({ phoneHash: phone }, { limit: 10 })).toEqual(one)
    })

    it('finds nothing by a key it does not hold, or by an openid of another app', async () => {
      const { directory } = await make()
      const uid = newUid()
      await directory.put(entry(uid))
      const none = { users: [] }
      expect(await directory.get(newUid())).toBeNull()
      expect(await directory.find({ uid: newUid() }, { limit: 10 })).toEqual(none)
      expect(await directory.find({ openid: `o-${uid}`, appId: 'other' }, { limit: 10 })).toEqual(
        none,
      )
      expect(await directory.find({ unionid: newUid() }, { limit: 10 })).toEqual(none)
      expect(await directory.find({ phoneHash: newUid() }, { limit: 10 })).toEqual(none)
      expect((await directory.get(uid))?.phone).toBe(false)
    })

    it('writes an identity again as an update, and moves it to the user a later login names', async () => {
      const { directory } = await make()
      const [a, b] = [newUid('a'), newUid('b')]
      const openid = `o-${a}`
      await directory.put(entry(a, { openid }))
      await directory.put(entry(a, { openid, updatedAt: 1_800_000_100, unionid: 'un-1' }))
      expect((await directory.get(a))?.identities).toEqual([
        entry(a, { openid, updatedAt: 1_800_000_100, unionid: 'un-1' }),
      ])
      await directory.put(entry(b, { openid, updatedAt: 1_800_000_200 }))
      expect(await directory.get(a)).toBeNull()
      expect((await directory.find({ openid }, { limit: 10 })).users.map((u) => u.uid)).toEqual([b])
      expect(await directory.find({ unionid: 'un-1' }, { limit: 10 })).toEqual({ users: [] })
    })

    it('replaces a phone hash: the old one finds nothing', async () => {
      const { directory } = await make()
      const uid = newUid()
      const [old, current] = [`ph-${crypto.randomUUID()}`, `ph-${crypto.randomUUID()}`]
      await directory.put(entry(uid))
      await directory.putPhone(uid, old, 1_800_000_000)
      await directory.putPhone(uid, current, 1_800_000_001)
      expect(await directory.find({ phoneHash: old }, { limit: 10 })).toEqual({ users: [] })
      expect((await directory.find({ phoneHash: current }, { limit: 10 })).users).toHaveLength(1)
    })

    it('holds nothing of a deleted user, by any key; deleting again is no error', async () => {
      const { directory } = await make()
      const uid = newUid()
      const unionid = newUid('un')
      const phone = `ph-${crypto.randomUUID()}`
      expect(await directory.put(entry(uid, { unionid }))).toBe(true)
      expect(await directory.putPhone(uid, phone, 1_800_000_000)).toBe(true)
      await directory.deleteUser(uid)
      await directory.deleteUser(uid)
      const none = { users: [] }
      expect(await directory.get(uid)).toBeNull()
      expect(await directory.find({ uid }, { limit: 10 })).toEqual(none)
      expect(await directory.find({ openid: `o-${uid}` }, { limit: 10 })).toEqual(none)
      expect(await directory.find({ unionid }, { limit: 10 })).toEqual(none)
      expect(await directory.find({ phoneHash: phone }, { limit: 10 })).toEqual(none)
    })

    it('refuses, for a while, the writes of a login that began before the user was deleted', async () => {
      const { directory } = await make()
      const uid = newUid()
      const deletedAt = Math.floor(Date.now() / 1000)
      await directory.put(entry(uid, { updatedAt: deletedAt - 5 }))
      await directory.deleteUser(uid, deletedAt)
      // Began before the deletion: refused, nothing written.
      expect(await directory.put(entry(uid, { updatedAt: deletedAt - 1 }))).toBe(false)
      expect(await directory.putPhone(uid, `ph-${crypto.randomUUID()}`, deletedAt - 1)).toBe(false)
      expect(await directory.get(uid)).toBeNull()
      expect(await directory.find({ openid: `o-${uid}` }, { limit: 10 })).toEqual({ users: [] })
      // Began with it or after it: a login like any other.
      expect(await directory.put(entry(uid, { updatedAt: deletedAt }))).toBe(true)
      expect(await directory.putPhone(uid, `ph-${crypto.randomUUID()}`, deletedAt + 1)).toBe(true)
      expect(await directory.get(uid)).toMatchObject({ uid, phone: true })
    })

    it('pages the users a key finds, by uid, until there is no cursor', async () => {
      const { directory } = await make()
      const unionid = newUid('un')
      const uids = Array.from({ length: 7 }, (_, i) => `${newUid(`p${i}`)}`)
      for (const [i, uid] of uids.entries()) {
        await directory.put(entry(uid, { appId: `app${i}`, unionid }))
      }
      const seen: string[] = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = await directory.find({ unionid }, { limit: 3, ...(cursor ? { cursor } : {}) })
        expect(page.users.length).toBeLessThanOrEqual(3)
        seen.push(...page.users.map((u) => u.uid))
        cursor = page.cursor
        pages++
      } while (cursor && pages < 10)
      expect(pages).toBe(3)
      expect(seen).toEqual([...uids].sort())
    })

    it('refuses a cursor it did not give, and a limit outside 1–100, as INVALID_REQUEST', async () => {
      const { directory } = await make()
      for (const page of [{ limit: 10, cursor: 'not a cursor' }, { limit: 0 }, { limit: 101 }]) {
        await expect(directory.find({ unionid: 'x' }, page)).rejects.toMatchObject({
          code: 'INVALID_REQUEST',
        })
      }
    })
  })

  describe(`the audit log: ${name}`, () => {
    /** A scripted day of two users' events, a few minutes apart, from `t0`. */
    function scriptedDay(t0: number) {
      const [alice, bob] = [newUid('alice'), newUid('bob')]
      const script: [AuditType, string | undefined, string][] = [
        ['login', alice, 'user'],
        ['login', bob, 'user'],
        ['refresh', alice, 'user'],
        ['profile.refused', bob, 'user'],
        ['refresh.reuse', alice, 'system'],
        ['logout', bob, 'user'],
        ['admin', undefined, 'operator:k1'],
        ['ban', bob, 'operator:k1'],
        ['login', alice, 'user'],
        ['device.revoked', alice, 'user'],
        ['push', alice, 'platform:wechat'],
        ['account.deleted', alice, 'platform:wechat'],
      ]
      const records: AuditRecord[] = script.map(([type, uid, actor], i) => ({
        at: t0 + i * 7 * MINUTE + (i % 3),
        type,
        ...(uid ? { uid } : {}),
        actor,
        ...(type === 'login'
          ? { detail: { platform: 'wechat', app: 'wxapp', kind: 'code', address: '203.0.113.7' } }
          : {}),
      }))
      return { alice, bob, records }
    }

    it('gives back a scripted day complete, in order, page by page', async () => {
      const stores = await make()
      const t0 = newDay()
      const log = stores.audit({ retentionDays: 180, now: () => t0 + DAY })
      const { records } = scriptedDay(t0)
      // Some one at a time, the rest in one append.
      for (const record of records.slice(0, 5)) await log.append([record])
      await log.append(records.slice(5))
      const window = { since: t0, until: t0 + DAY }
      const whole = await readAll(log, window, 100)
      expect(whole.pages).toBe(1)
      expect(whole.records.map(strip)).toEqual(records)
      expect(new Set(whole.records.map((r) => r.id)).size).toBe(records.length)
      const paged = await readAll(log, window, 5)
      expect(paged.pages).toBe(3)
      expect(paged.records).toEqual(whole.records)
    })

    it('filters by user, type, both, and time (since inclusive, until exclusive)', async () => {
      const stores = await make()
      const t0 = newDay()
      const log = stores.audit({ retentionDays: 180, now: () => t0 + DAY })
      const { alice, bob, records } = scriptedDay(t0)
      await log.append(records)
      const window = { since: t0, until: t0 + DAY }
      const expectFound = async (
        filter: Parameters<AuditLog['query']>[0],
        keep: (r: AuditRecord) => boolean,
      ) => {
        const found = await readAll(log, { ...window, ...filter }, 2)
        expect(found.records.map(strip)).toEqual(records.filter(keep))
      }
      await expectFound({ uid: alice }, (r) => r.uid === alice)
      await expectFound({ uid: bob }, (r) => r.uid === bob)
      await expectFound({ type: 'login' }, (r) => r.type === 'login')
      await expectFound({ type: 'admin' }, (r) => r.type === 'admin')
      await expectFound({ uid: alice, type: 'login' }, (r) => r.uid === alice && r.type === 'login')
      const [, , third, , , sixth] = records as [
        AuditRecord,
        AuditRecord,
        AuditRecord,
        ...AuditRecord[],
      ]
      const mid = { since: third.at, until: (sixth as AuditRecord).at }
      const found = await readAll(log, mid, 100)
      expect(found.records.map(strip)).toEqual(records.slice(2, 5))
      expect(await log.query({ uid: newUid() }, { limit: 10 })).toEqual({ records: [] })
    })

    it('never returns a record past retention, and purges it for good', async () => {
      const stores = await make()
      const t0 = newDay()
      const { alice, records } = scriptedDay(t0)
      const then = stores.audit({ retentionDays: 180, now: () => t0 + DAY })
      await then.append(records)
      const window = { since: t0 - DAY, until: t0 + 400 * DAY }
      expect((await readAll(then, window, 100)).records).toHaveLength(records.length)
      // 180 days and an hour on: everything is past retention, whatever is left on disk.
      const later = stores.audit({ retentionDays: 180, now: () => t0 + 181 * DAY })
      expect(await later.query(window, { limit: 100 })).toEqual({ records: [] })
      expect(await later.query({ uid: alice }, { limit: 100 })).toEqual({ records: [] })
      // A purge deletes it: the earlier clock no longer finds it either.
      await later.purge(t0 + 181 * DAY - 180 * DAY)
      expect(await then.query(window, { limit: 100 })).toEqual({ records: [] })
    })

    it('keeps what is within retention on the boundary day', async () => {
      const stores = await make()
      const t0 = newDay()
      const { records } = scriptedDay(t0)
      const log = stores.audit({ retentionDays: 180, now: () => t0 + DAY })
      await log.append(records)
      // Purge up to the sixth record: the first five go, the rest stay.
      const cut = (records[5] as AuditRecord).at
      await log.purge(cut)
      const left = await readAll(log, { since: t0 - DAY, until: t0 + DAY }, 100)
      expect(left.records.map(strip)).toEqual(records.slice(5))
    })

    it('purges by itself when written to past retention', async () => {
      const stores = await make()
      const t0 = newDay()
      const { records } = scriptedDay(t0)
      const then = stores.audit({ retentionDays: 180, now: () => t0 + DAY })
      await then.append(records)
      // A log of another isolate, a year on: its first write purges.
      const t1 = t0 + 365 * DAY
      const later = stores.audit({ retentionDays: 180, now: () => t1 })
      await later.append([{ at: t1, type: 'login', uid: newUid(), actor: 'user' }])
      const window = { since: t0 - DAY, until: t0 + 2 * DAY }
      expect(await then.query(window, { limit: 100 })).toEqual({ records: [] })
    })

    it('refuses a cursor it did not give as INVALID_REQUEST', async () => {
      const stores = await make()
      const log = stores.audit({ retentionDays: 180 })
      await expect(log.query({}, { limit: 10, cursor: 'bm90IGEgY3Vyc29y' })).rejects.toMatchObject({
        code: 'INVALID_REQUEST',
      })
    })
  })
}
