// One behaviour for every session store: the same describe runs over memory
// (test/unit/stores-memory.test.ts), Redis (test/node/stores-redis.test.ts)
// and the Durable Object inside workerd (test/stores/durable-object.test.ts).
// No node: imports here: workerd loads this file too.
import { describe, expect, it, vi } from 'vitest'
import type { SessionAuthority } from '../../src/session/authority'
import type { AvatarRecord } from '../../src/session/profile'
import { type SessionRecord, sessionKeySlot } from '../../src/session/record'
import { identityKey, unionidKey } from '../../src/storage/keys'
import type { ObjectStore } from '../../src/storage/objects'
import type { SealedKv } from '../../src/storage/sealed-kv'
import { POLICY, sessionRecord } from '../node/records'

/** A store as the suite drives it. */
export interface StoreUnderTest {
  authority: SessionAuthority
  /** Where the store deletes identities from when it forgets a user. */
  identities: SealedKv
  /** Where the store deletes dropped avatars from. */
  objects: ObjectStore
}

export interface StoreSuiteOptions {
  /**
   * The same store with its backend gone under a connected client, and a way
   * to bring it back: every change must fail as `STORAGE_UNAVAILABLE` (nothing
   * was written) or `STORAGE_OUTCOME_UNKNOWN`, never answer as if it were
   * done; a read only as `STORAGE_UNAVAILABLE`. Absent: that part is skipped.
   */
  unreachable?: () => Promise<{ authority: SessionAuthority; restore(): Promise<void> }>
}

/** A user id of its own per test: stores that outlive a test (Redis, the objects) never mix them. */
const newUid = () => `suite-${crypto.randomUUID()}`

const record = (uid: string, at: number, extra: Partial<SessionRecord> = {}): SessionRecord => ({
  ...sessionRecord(uid, at),
  ...extra,
})

/** What a refresh token of generation `gen` presents: its hash and its successor's (`h<gen>`, `h<gen+1>`). */
const R = (gen: number, hash = `h${gen}`) => ({ gen, hash, next: `h${gen + 1}` })

const set = (key: string, value: unknown) => ({
  set: [[key, value]] as [string, unknown][],
  delete: [] as string[],
})

const avatar = (key: string): AvatarRecord => ({
  key,
  type: 'image/png',
  bytes: 1,
  check: 'pass',
})

const EXPIRED = { refused: 'SESSION_EXPIRED' }

/** The sessions a login ended; a refused login (a ban) fails the test. */
const endedBy = (answer: { ended: string[] } | { refused: string }) => {
  if (!('ended' in answer)) throw new Error(`login refused: ${answer.refused}`)
  return answer.ended
}

/**
 * Registers the store suite: one `describe` holding `make()`'s store to the
 * behaviour of `SessionAuthority` (the rules of `rules.ts`, the profile, the
 * identities, forget, the outcome-unknown answers).
 */
export function storeSuite(
  name: string,
  make: () => StoreUnderTest | Promise<StoreUnderTest>,
  options: StoreSuiteOptions = {},
) {
  describe(`the session store: ${name}`, () => {
    /** A fresh user with `n` sessions `s0`… logged in a millisecond apart, at `now`. */
    async function withSessions(n: number, extra: Partial<SessionRecord> = {}) {
      const store = await make()
      const uid = newUid()
      const now = Math.floor(Date.now() / 1000)
      for (let i = 0; i < n; i++) {
        const row = record(uid, now, { createdAtMs: now * 1000 + i, ...extra })
        await store.authority.login(uid, `s${i}`, row, 'h0', POLICY, now)
      }
      return { ...store, a: store.authority, uid, now }
    }

    describe('login and the cap', () => {
      it('keeps exactly maxSessions live, ending the oldest, and answers the ids it ended', async () => {
        const { a, uid, now } = await withSessions(0)
        const ended: string[][] = []
        for (let i = 0; i < 5; i++) {
          const row = record(uid, now, { createdAtMs: now * 1000 + i })
          ended.push(endedBy(await a.login(uid, `s${i}`, row, 'h0', POLICY, now)))
        }
        expect(ended).toEqual([[], [], [], ['s0'], ['s1']])
        expect((await a.list(uid, now)).map((s) => s.id)).toEqual(['s4', 's3', 's2'])
        expect(await a.read(uid, 's0', now)).toBeNull()
        expect(await a.read(uid, 's4', now)).toMatchObject({ uid, gen: 0 })
      })

      it('is exact under 12 parallel logins: the newest stay, every other is answered as ended', async () => {
        const { a, uid, now } = await withSessions(0)
        const ended = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            a.login(
              uid,
              `p${i}`,
              record(uid, now, { createdAtMs: now * 1000 + i }),
              'h0',
              POLICY,
              now,
            ),
          ),
        )
        expect((await a.list(uid, now)).map((s) => s.id)).toEqual(['p11', 'p10', 'p9'])
        // Each session the cap ended is reported once, by the login that ended it
        // (or it never was live: a login older than the three newest ends itself).
        const reported = ended.flatMap(endedBy)
        expect(new Set(reported).size).toBe(reported.length)
        expect(reported).not.toContain('p11')
      })

      it('an expired session neither counts toward the cap nor is listed, read, ended or refreshed', async () => {
        const { a, uid, now } = await withSessions(0)
        await a.login(uid, 'old', record(uid, now, { expiresAt: now + 10 }), 'h0', POLICY, now)
        const later = now + 20
        for (let i = 0; i < 3; i++) {
          const row = record(uid, later, { createdAtMs: later * 1000 + i })
          expect(await a.login(uid, `s${i}`, row, 'h0', POLICY, later)).toEqual({ ended: [] })
        }
        expect((await a.list(uid, later)).map((s) => s.id)).toEqual(['s2', 's1', 's0'])
        expect(await a.read(uid, 'old', later)).toBeNull()
        expect(await a.end(uid, 'old', later)).toBe(false)
        expect(await a.refresh(uid, 'old', R(0), POLICY, later)).toEqual({
          ok: false,
          refused: 'SESSION_EXPIRED',
          over: true,
        })
        expect(((await a.endAll(uid, later)) as string[]).sort()).toEqual(['s0', 's1', 's2'])
      })

      it('keeps the sealed session_key of a login per app slot; setSessionKey replaces it', async () => {
        const { a, uid, now } = await withSessions(0)
        const slot = sessionKeySlot('wxapp', 'wechat')
        expect(await a.sessionKey(uid, slot)).toBeNull()
        await a.login(uid, 's', record(uid, now), 'h0', POLICY, now, 'sealed-1')
        expect(await a.sessionKey(uid, slot)).toBe('sealed-1')
        await a.setSessionKey(uid, slot, 'sealed-2')
        expect(await a.sessionKey(uid, slot)).toBe('sealed-2')
        expect(await a.sessionKey(uid, sessionKeySlot('wxother', 'wechat'))).toBeNull()
      })

      it("the last login's or setSessionKey's key wins, whatever the clocks; an ended session keeps it", async () => {
        const { a, uid, now } = await withSessions(0)
        const slot = sessionKeySlot('wxapp', 'wechat')
        await a.login(uid, 'ahead', record(uid, now + 5), 'h0', POLICY, now, 'sealed-1')
        // A login from a Worker whose clock is behind: its key is still the newest.
        await a.login(uid, 'behind', record(uid, now), 'h0', POLICY, now, 'sealed-2')
        expect(await a.sessionKey(uid, slot)).toBe('sealed-2')
        await a.setSessionKey(uid, slot, 'sealed-3')
        expect(await a.sessionKey(uid, slot)).toBe('sealed-3')
        await a.login(uid, 'last', record(uid, now + 6), 'h0', POLICY, now, 'sealed-4')
        expect(await a.sessionKey(uid, slot)).toBe('sealed-4')
        // Its session ends (a store may drop the row): the key stays, no older one comes back.
        await a.end(uid, 'last', now)
        expect(await a.sessionKey(uid, slot)).toBe('sealed-4')
      })
    })

    describe('write', () => {
      it('sets and deletes keys, and the next read has them', async () => {
        const { a, uid, now } = await withSessions(1)
        expect(await a.write(uid, 's0', 0, set('a', 1), POLICY, now)).toMatchObject({
          ok: true,
          record: { data: { a: 1 } },
        })
        const both = { set: [['b', { c: [1, 2] }]] as [string, unknown][], delete: ['a'] }
        expect(await a.write(uid, 's0', 0, both, POLICY, now)).toMatchObject({
          ok: true,
          record: { data: { b: { c: [1, 2] } } },
        })
        expect((await a.read(uid, 's0', now))?.data).toEqual({ b: { c: [1, 2] } })
      })

      it('keeps a key named __proto__ as plain data', async () => {
        const { a, uid, now } = await withSessions(1)
        await a.write(uid, 's0', 0, set('__proto__', { admin: true }), POLICY, now)
        const data = (await a.read(uid, 's0', now))?.data ?? {}
        expect(Object.keys(data)).toEqual(['__proto__'])
        expect(({} as { admin?: boolean }).admin).toBeUndefined()
      })

      it('is refused for an ended or unknown session (over)', async () => {
        const { a, uid, now } = await withSessions(1)
        await a.end(uid, 's0', now)
        const over = { ok: false, refused: 'SESSION_EXPIRED', over: true }
        expect(await a.write(uid, 's0', 0, set('a', 1), POLICY, now)).toEqual(over)
        expect(await a.write(uid, 'nobody', 0, set('a', 1), POLICY, now)).toEqual(over)
      })

      it('from a replaced generation, or one ahead, is refused and ends nothing', async () => {
        const { a, uid, now } = await withSessions(1)
        await a.refresh(uid, 's0', R(0), POLICY, now + 1)
        const stale = { ok: false, refused: 'SESSION_EXPIRED', over: false }
        expect(await a.write(uid, 's0', 0, set('a', 1), POLICY, now + 2)).toEqual(stale)
        expect(await a.write(uid, 's0', 5, set('a', 1), POLICY, now + 2)).toEqual(stale)
        expect(await a.write(uid, 's0', 1, set('a', 1), POLICY, now + 2)).toMatchObject({
          ok: true,
          record: { gen: 1, data: { a: 1 } },
        })
      })

      it('refuses data over the size, depth or key limits as SESSION_TOO_LARGE, and keeps what was', async () => {
        const { a, uid, now } = await withSessions(1)
        await a.write(uid, 's0', 0, set('kept', 1), POLICY, now)
        let deep: unknown = 1
        for (let i = 0; i < 40; i++) deep = { a: deep }
        const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, 0]))
        for (const value of ['x'.repeat(2000), deep, many]) {
          expect(await a.write(uid, 's0', 0, set('v', value), POLICY, now)).toEqual({
            ok: false,
            refused: 'SESSION_TOO_LARGE',
            over: false,
          })
        }
        expect((await a.read(uid, 's0', now))?.data).toEqual({ kept: 1 })
      })

      it('a session over a lowered limit may still shrink, but not grow', async () => {
        const { a, uid, now } = await withSessions(1)
        await a.write(uid, 's0', 0, set('big', 'x'.repeat(900)), POLICY, now)
        const lowered = { ...POLICY, maxBytes: 100 }
        expect(await a.write(uid, 's0', 0, set('more', 1), lowered, now)).toMatchObject({
          ok: false,
          refused: 'SESSION_TOO_LARGE',
        })
        const shrink = { set: [] as [string, unknown][], delete: ['big'] }
        expect(await a.write(uid, 's0', 0, shrink, lowered, now)).toMatchObject({
          ok: true,
          record: { data: {} },
        })
      })
    })

    describe('refresh generations and the grace', () => {
      it('rotates to a new generation; the replaced token within the grace replays the same answer', async () => {
        const { a, uid, now } = await withSessions(1)
        const first = await a.refresh(uid, 's0', R(0), POLICY, now + 1)
        expect(first).toMatchObject({
          ok: true,
          replayed: false,
          record: { gen: 1, refreshedAt: now + 1 },
        })
        const retried = await a.refresh(uid, 's0', R(0), POLICY, now + 20)
        expect(retried).toEqual({ ...first, replayed: true })
        expect(await a.read(uid, 's0', now + 20)).toMatchObject({ gen: 1 })
      })

      it('two refreshes of one token at once both get the one new generation', async () => {
        const { a, uid, now } = await withSessions(1)
        const both = await Promise.all([
          a.refresh(uid, 's0', R(0), POLICY, now + 1),
          a.refresh(uid, 's0', R(0), POLICY, now + 1),
        ])
        expect(both.map((o) => o.ok && o.record.gen)).toEqual([1, 1])
        expect(both.map((o) => o.replayed).sort()).toEqual([false, true])
      })

      it('the replaced token after the grace is reuse: TOKEN_REVOKED, and the session ends', async () => {
        const { a, uid, now } = await withSessions(1)
        await a.refresh(uid, 's0', R(0), POLICY, now + 1)
        const late = await a.refresh(uid, 's0', R(0), POLICY, now + 1 + POLICY.grace)
        expect(late).toEqual({ ok: false, refused: 'TOKEN_REVOKED', over: true })
        expect(await a.read(uid, 's0', now + 32)).toBeNull()
        expect(await a.refresh(uid, 's0', R(1), POLICY, now + 32)).toMatchObject({
          ok: false,
          over: true,
        })
      })

      it('once the successor was used, the replaced token is reuse within the grace too', async () => {
        const { a, uid, now } = await withSessions(1)
        await a.refresh(uid, 's0', R(0), POLICY, now + 1)
        expect(await a.refresh(uid, 's0', R(1), POLICY, now + 2)).toMatchObject({
          ok: true,
          record: { gen: 2 },
        })
        expect(await a.refresh(uid, 's0', R(0), POLICY, now + 3)).toEqual({
          ok: false,
          refused: 'TOKEN_REVOKED',
          over: true,
        })
        expect(await a.read(uid, 's0', now + 3)).toBeNull()
      })

      it('the current generation with another hash, or one ahead, is refused and ends nothing', async () => {
        const { a, uid, now } = await withSessions(1)
        const refused = { ok: false, refused: 'SESSION_EXPIRED', over: false }
        expect(await a.refresh(uid, 's0', R(0, 'other'), POLICY, now + 1)).toEqual(refused)
        expect(await a.refresh(uid, 's0', R(3), POLICY, now + 1)).toEqual(refused)
        expect(await a.read(uid, 's0', now + 1)).toMatchObject({ gen: 0 })
      })

      it('slides the expiry past half the ttl, never past maxAge; past maxAge it is over', async () => {
        const { a, uid, now } = await withSessions(1)
        const early = await a.refresh(uid, 's0', R(0), POLICY, now + 10)
        expect(early).toMatchObject({ ok: true, record: { expiresAt: now + POLICY.ttl } })
        const capped = { ...POLICY, maxAge: 5000 }
        const late = await a.refresh(uid, 's0', R(1), capped, now + 3000)
        expect(late).toMatchObject({ ok: true, record: { expiresAt: now + capped.maxAge } })
        const policy = { ...POLICY, maxAge: 3500 }
        expect(await a.refresh(uid, 's0', R(2), policy, now + 3500)).toEqual({
          ok: false,
          refused: 'SESSION_EXPIRED',
          over: true,
        })
      })
    })

    describe('logout, logout-all, device revoke', () => {
      it('end: true for a live session, false after; the others live on', async () => {
        const { a, uid, now } = await withSessions(2)
        expect(await a.end(uid, 's0', now)).toBe(true)
        expect(await a.end(uid, 's0', now)).toBe(false)
        expect(await a.end(uid, 'nobody', now)).toBe(false)
        expect((await a.list(uid, now)).map((s) => s.id)).toEqual(['s1'])
      })

      it('endAll ends every session, or those of one app with appId', async () => {
        const { a, uid, now } = await withSessions(2)
        const other = record(uid, now, { appId: 'wxother', createdAtMs: now * 1000 + 9 })
        await a.login(uid, 'x', other, 'h0', POLICY, now)
        expect(await a.endAll(uid, now, 'wxother')).toEqual(['x'])
        expect((await a.list(uid, now)).map((s) => s.id)).toEqual(['s1', 's0'])
        expect(((await a.endAll(uid, now)) as string[]).sort()).toEqual(['s0', 's1'])
        expect(await a.list(uid, now)).toEqual([])
      })

      it('endAll by a live caller ends its own session too', async () => {
        const { a, uid, now } = await withSessions(2)
        const ended = await a.endAll(uid, now, undefined, { id: 's1', gen: 0 })
        expect((ended as string[]).sort()).toEqual(['s0', 's1'])
      })

      it('a dead, replaced or ahead caller can end nothing: SESSION_EXPIRED', async () => {
        const { a, uid, now } = await withSessions(3)
        await a.end(uid, 's0', now)
        await a.refresh(uid, 's1', R(0), POLICY, now + 1)
        for (const by of [
          { id: 's0', gen: 0 }, // ended
          { id: 's1', gen: 0 }, // replaced by a refresh
          { id: 's2', gen: 4 }, // a generation never minted
          { id: 'nobody', gen: 0 },
        ]) {
          expect(await a.endAll(uid, now + 2, undefined, by), by.id).toEqual(EXPIRED)
          expect(await a.endAll(uid, now + 2, 'wxapp', by), by.id).toEqual(EXPIRED)
          expect(await a.end(uid, 's2', now + 2, by), by.id).toEqual(EXPIRED)
        }
        expect((await a.list(uid, now + 2)).map((s) => s.id)).toEqual(['s2', 's1'])
      })

      it('device revoke: a live caller ends another of its sessions, listed with its device', async () => {
        const { a, uid, now } = await withSessions(1)
        const device = { platform: 'ios', model: 'iPhone' }
        const phone = record(uid, now, { createdAtMs: now * 1000 + 5, device })
        await a.login(uid, 'phone', phone, 'h0', POLICY, now)
        expect(await a.list(uid, now)).toEqual([
          { id: 'phone', createdAt: now, refreshedAt: now, expiresAt: now + POLICY.ttl, device },
          { id: 's0', createdAt: now, refreshedAt: now, expiresAt: now + POLICY.ttl },
        ])
        expect(await a.end(uid, 'phone', now, { id: 's0', gen: 0 })).toBe(true)
        expect(await a.end(uid, 'phone', now, { id: 's0', gen: 0 })).toBe(false)
        expect(await a.read(uid, 'phone', now)).toBeNull()
        expect((await a.list(uid, now)).map((s) => s.id)).toEqual(['s0'])
      })
    })

    describe('the profile', () => {
      it('writes, reads, clears; a replaced avatar’s object is deleted', async () => {
        const { a, uid, now, objects } = await withSessions(1)
        const [k1, k2] = [`a1-${uid}`, `a2-${uid}`]
        for (const key of [k1, k2]) await objects.put(key, new Uint8Array([1]), 'image/png')
        expect(await a.profile(uid, now)).toBeNull()
        const nickname = { value: 'Alice', check: 'pass' as const }
        expect(await a.updateProfile(uid, { nickname, avatar: avatar(k1) }, now)).toMatchObject({
          nickname: 'Alice',
          avatar: { key: k1 },
        })
        await a.updateProfile(uid, { avatar: avatar(k2) }, now + 1)
        expect(await a.profile(uid, now + 1)).toMatchObject({
          nickname: 'Alice',
          avatar: { key: k2 },
        })
        await vi.waitFor(async () => expect(await objects.get(k1)).toBeNull())
        expect(await objects.get(k2)).not.toBeNull()
        expect(await a.updateProfile(uid, { nickname: null, avatar: null }, now + 2)).toBeNull()
        expect(await a.profile(uid, now + 2)).toBeNull()
        await vi.waitFor(async () => expect(await objects.get(k2)).toBeNull())
      })

      it('a risky check drops the avatar it names and its object, not a newer one', async () => {
        const { a, uid, now, objects } = await withSessions(0)
        const [k1, k2] = [`a1-${uid}`, `a2-${uid}`]
        for (const key of [k1, k2]) await objects.put(key, new Uint8Array([1]), 'image/png')
        const pending = (key: string, trace: string) =>
          ({ ...avatar(key), check: 'pending', trace }) as const
        await a.updateProfile(uid, { avatar: pending(k1, 't1') }, now)
        await a.updateProfile(uid, { avatar: pending(k2, 't2') }, now)
        // The first check's result comes late: it names an avatar that is gone.
        await a.updateProfile(uid, { avatarChecked: { trace: 't1', result: 'risky' } }, now)
        expect((await a.profile(uid, now))?.avatar?.key).toBe(k2)
        await a.updateProfile(uid, { avatarChecked: { trace: 't2', result: 'risky' } }, now)
        expect(await a.profile(uid, now)).toBeNull()
        await vi.waitFor(async () => {
          expect([await objects.get(k1), await objects.get(k2)]).toEqual([null, null])
        })
      })

      it('checked against the caller: refused and unwritten once its session ended or the user was forgotten', async () => {
        const { a, uid, now } = await withSessions(2)
        const nickname = { value: 'Bob', check: 'pass' as const }
        expect(await a.updateProfile(uid, { nickname }, now, { id: 's0', gen: 0 })).toMatchObject({
          nickname: 'Bob',
        })
        await a.refresh(uid, 's1', R(0), POLICY, now)
        const renamed = { nickname: { value: 'Eve', check: 'pass' as const } }
        expect(await a.updateProfile(uid, renamed, now, { id: 's1', gen: 0 })).toEqual(EXPIRED)
        await a.forget(uid, now + 1)
        expect(await a.updateProfile(uid, renamed, now + 1, { id: 's0', gen: 0 })).toEqual(EXPIRED)
        expect(await a.profile(uid, now + 1)).toBeNull()
      })
    })

    describe('identities and forget', () => {
      it('ends every session and deletes every identity and unionid link it logged in with, the keys, the profile and its avatar', async () => {
        const { a, uid, now, identities, objects } = await withSessions(0)
        const keys = [
          identityKey('wxapp', `o-${uid}`, 'wechat'),
          unionidKey(`union-${uid}`, 'wechat'),
          identityKey('wxother', `o2-${uid}`, 'wechat'),
        ]
        for (const key of keys) await identities.put(key, { v: 1, uid }, 3600)
        const first = record(uid, now, { unionid: `union-${uid}` })
        await a.login(uid, 's', first, 'h0', POLICY, now, 'sealed')
        const second = record(uid, now, {
          appId: 'wxother',
          openid: `o2-${uid}`,
          createdAtMs: now * 1000 + 1,
        })
        await a.login(uid, 't', second, 'h0', POLICY, now)
        const key = `forget-${uid}`
        await objects.put(key, new Uint8Array([1]), 'image/png')
        await a.updateProfile(
          uid,
          { nickname: { value: 'A', check: 'pass' }, avatar: avatar(key) },
          now,
        )

        expect((await a.forget(uid, now + 1)).sort()).toEqual(['s', 't'])
        for (const k of keys) expect(await identities.get(k), k).toBeNull()
        expect(await a.list(uid, now + 1)).toEqual([])
        expect(await a.read(uid, 's', now + 1)).toBeNull()
        expect(await a.sessionKey(uid, sessionKeySlot('wxapp', 'wechat'))).toBeNull()
        expect(await a.profile(uid, now + 1)).toBeNull()
        await vi.waitFor(async () => expect(await objects.get(key)).toBeNull())
        // Forgotten twice (a retried push): nothing left to end.
        expect(await a.forget(uid, now + 2)).toEqual([])
      })

      it('leaves a unionid link that another user took since', async () => {
        const { a, uid, now, identities } = await withSessions(0)
        const linked = record(uid, now, { unionid: `union-${uid}` })
        await a.login(uid, 's', linked, 'h0', POLICY, now)
        await identities.put(
          unionidKey(`union-${uid}`, 'wechat'),
          { v: 1, uid: 'someone-else' },
          3600,
        )
        await a.forget(uid, now + 1)
        expect(
          (await identities.get<{ uid: string }>(unionidKey(`union-${uid}`, 'wechat')))?.value.uid,
        ).toBe('someone-else')
      })

      it('deletes the identity of an app whose sessions are long over (M-4)', async () => {
        const { a, uid, now, identities } = await withSessions(0)
        const old = identityKey('wxold', `o-old-${uid}`, 'wechat')
        await identities.put(old, { v: 1, uid }, 3600)
        const idle = record(uid, now, {
          appId: 'wxold',
          openid: `o-old-${uid}`,
          expiresAt: now + 1,
        })
        await a.login(uid, 'idle', idle, 'h0', POLICY, now)
        const later = now + 10
        const fresh = record(uid, later, { createdAtMs: later * 1000 })
        await a.login(uid, 'fresh', fresh, 'h0', POLICY, later)
        expect(await a.forget(uid, later)).toEqual(['fresh'])
        expect(await identities.get(old)).toBeNull()
      })

      it('a login after forget is a new start', async () => {
        const { a, uid, now } = await withSessions(2)
        await a.forget(uid, now)
        expect(await a.login(uid, 'again', record(uid, now + 1), 'h0', POLICY, now + 1)).toEqual({
          ended: [],
        })
        expect((await a.list(uid, now + 1)).map((s) => s.id)).toEqual(['again'])
      })
    })

    describe('bans', () => {
      const BAN = { reason: 'spam', at: 0, by: 'operator:ops' }

      it('ends every live session in the step, and refuses logins and refreshes while it holds', async () => {
        const { a, uid, now } = await withSessions(2)
        expect((await a.ban(uid, { ...BAN, at: now }, now)).sort()).toEqual(['s0', 's1'])
        expect(await a.list(uid, now)).toEqual([])
        expect(await a.read(uid, 's0', now)).toBeNull()
        expect(await a.banned(uid, now)).toEqual({ ...BAN, at: now })
        expect(await a.login(uid, 'n', record(uid, now), 'h0', POLICY, now, 'sealed')).toEqual({
          refused: 'USER_BANNED',
        })
        // The refused login kept nothing: no session, no session_key.
        expect(await a.read(uid, 'n', now)).toBeNull()
        expect(await a.sessionKey(uid, sessionKeySlot('wxapp', 'wechat'))).toBeNull()
        expect(await a.refresh(uid, 's0', R(0), POLICY, now)).toEqual({
          ok: false,
          refused: 'USER_BANNED',
          over: true,
        })
      })

      it('with until: refusals carry it, and at until it lifts itself', async () => {
        const { a, uid, now } = await withSessions(1)
        const until = now + 60
        await a.ban(uid, { ...BAN, at: now, until }, now)
        const login = (id: string, at: number) =>
          a.login(uid, id, record(uid, at, { createdAtMs: at * 1000 }), 'h0', POLICY, at)
        expect(await login('n', now + 59)).toEqual({ refused: 'USER_BANNED', until })
        expect(await a.refresh(uid, 's0', R(0), POLICY, now + 59)).toEqual({
          ok: false,
          refused: 'USER_BANNED',
          over: true,
          until,
        })
        expect(await a.banned(uid, now + 59)).toMatchObject({ until })
        expect(await a.banned(uid, until)).toBeNull()
        expect(await login('m', until)).toEqual({ ended: [] })
        expect(await a.read(uid, 'm', until)).toMatchObject({ uid })
        // The session the ban ended stays ended.
        expect(await a.read(uid, 's0', until)).toBeNull()
        expect(await a.refresh(uid, 'm', R(0), POLICY, until)).toMatchObject({ ok: true })
      })

      it('unban lifts it at once; says whether one held; a new ban replaces the old', async () => {
        const { a, uid, now } = await withSessions(0)
        expect(await a.unban(uid, now)).toBe(false)
        await a.ban(uid, { ...BAN, at: now, until: now + 10 }, now)
        await a.ban(uid, { ...BAN, reason: 'fraud', at: now + 1 }, now + 1)
        expect(await a.banned(uid, now + 100)).toMatchObject({ reason: 'fraud' })
        expect(await a.unban(uid, now + 100)).toBe(true)
        expect(await a.banned(uid, now + 100)).toBeNull()
        expect(await a.unban(uid, now + 100)).toBe(false)
        expect(
          endedBy(await a.login(uid, 'n', record(uid, now + 100), 'h0', POLICY, now + 100)),
        ).toEqual([])
      })

      it('is forgotten with the user', async () => {
        const { a, uid, now } = await withSessions(1)
        await a.ban(uid, { ...BAN, at: now }, now)
        await a.forget(uid, now + 1)
        expect(await a.banned(uid, now + 1)).toBeNull()
      })
    })

    describe('outcome unknown', () => {
      it.skipIf(!options.unreachable)(
        'with the store gone, a change fails as STORAGE_UNAVAILABLE (and wrote nothing) or STORAGE_OUTCOME_UNKNOWN, a read as STORAGE_UNAVAILABLE',
        async () => {
          const down = await options.unreachable?.()
          if (!down) return
          const a = down.authority
          const uid = newUid()
          const now = Math.floor(Date.now() / 1000)
          const changes = {
            login: () => a.login(uid, 's', record(uid, now), 'h0', POLICY, now),
            updateProfile: () =>
              a.updateProfile(uid, { nickname: { value: 'Ghost', check: 'pass' } }, now),
            write: () => a.write(uid, 's', 0, set('a', 1), POLICY, now),
            refresh: () => a.refresh(uid, 's', R(0), POLICY, now),
            end: () => a.end(uid, 's', now),
            endAll: () => a.endAll(uid, now),
            forget: () => a.forget(uid, now),
            setSessionKey: () => a.setSessionKey(uid, sessionKeySlot('wxapp', 'wechat'), 'sealed'),
          }
          const codes: Record<string, string | undefined> = {}
          for (const [what, change] of Object.entries(changes)) {
            const failed = await change().then(
              (answer) => ({ answer }),
              (err: unknown) => err,
            )
            codes[what] = (failed as { code?: string }).code
            expect(codes[what], what).toMatch(/^STORAGE_(UNAVAILABLE|OUTCOME_UNKNOWN)$/)
          }
          for (const read of [
            () => a.read(uid, 's', now),
            () => a.list(uid, now),
            () => a.profile(uid, now),
            () => a.sessionKey(uid, sessionKeySlot('wxapp', 'wechat')),
          ]) {
            await expect(read()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' })
          }
          // Back again: what was answered as unavailable was not made.
          await down.restore()
          const sessions = await vi.waitFor(() => a.list(uid, now), { timeout: 10_000 })
          if (codes.login === 'STORAGE_UNAVAILABLE') expect(sessions).toEqual([])
          if (codes.updateProfile === 'STORAGE_UNAVAILABLE') {
            expect(await a.profile(uid, now)).toBeNull()
          }
          if (codes.setSessionKey === 'STORAGE_UNAVAILABLE') {
            expect(await a.sessionKey(uid, sessionKeySlot('wxapp', 'wechat'))).toBeNull()
          }
        },
      )
    })
  })
}
