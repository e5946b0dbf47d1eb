// The session rules on the in-memory authority (`wxa-auth/testing`): the same
// rules the Durable Object and Redis run, in milliseconds, with no workerd.
import { describe, expect, it } from 'vitest'
import { memoryAuthority } from '../../src/runtime/memory/authority'
import { memoryKv } from '../../src/runtime/memory/kv'
import { memoryObjects } from '../../src/runtime/memory/objects'
import type { SessionPolicy, SessionRecord } from '../../src/session/record'
import { createCipher } from '../../src/storage/cipher'
import { identityKey, unionidKey } from '../../src/storage/keys'
import { sealedKv } from '../../src/storage/sealed-kv'

const POLICY: SessionPolicy = {
  ttl: 3600,
  maxAge: 7200,
  maxBytes: 1024,
  maxSessions: 3,
  grace: 30,
}
const NOW = 1_800_000_000

const record = (uid: string, at = NOW, extra: Partial<SessionRecord> = {}): SessionRecord => ({
  v: 1,
  uid,
  appId: 'wxapp',
  openid: `o-${uid}`,
  createdAt: at,
  createdAtMs: at * 1000 + Math.random(),
  refreshedAt: at,
  expiresAt: at + POLICY.ttl,
  gen: 0,
  data: {},
  ...extra,
})

/** What a refresh token of generation `gen` presents: its hash and its successor's (`h<gen>`, `h<gen+1>`). */
const R = (gen: number, hash = `h${gen}`) => ({ gen, hash, next: `h${gen + 1}` })

const change = (key: string, value: unknown) => ({
  set: [[key, value]] as [string, unknown][],
  delete: [],
})

describe('the rules on the memory authority', () => {
  it('keeps exactly maxSessions live, ending the oldest', async () => {
    const authority = memoryAuthority()
    const ended: string[] = []
    for (let i = 0; i < 5; i++) {
      ended.push(
        ...(await authority.login('u', `s${i}`, record('u', NOW + i), 'h0', POLICY, NOW + i)),
      )
    }
    expect(ended).toEqual(['s0', 's1'])
    expect((await authority.list('u', NOW + 5)).map((s) => s.id)).toEqual(['s4', 's3', 's2'])
  })

  it('refresh: a new generation; the replaced refresh token within the grace replays it, outside it ends the session', async () => {
    const authority = memoryAuthority()
    await authority.login('u', 's', record('u'), 'h0', POLICY, NOW)
    const first = await authority.refresh('u', 's', R(0), POLICY, NOW + 1)
    expect(first).toMatchObject({
      ok: true,
      replayed: false,
      record: { gen: 1, refreshedAt: NOW + 1 },
    })
    const retried = await authority.refresh('u', 's', R(0), POLICY, NOW + 20)
    expect(retried).toMatchObject({
      ok: true,
      replayed: true,
      record: { gen: 1, refreshedAt: NOW + 1 },
    })
    const late = await authority.refresh('u', 's', R(0), POLICY, NOW + 40)
    expect(late).toEqual({ ok: false, refused: 'TOKEN_REVOKED', over: true })
    expect(await authority.read('u', 's', NOW + 41)).toBeNull()
  })

  it('refresh: once the successor was used, the replaced refresh token is reuse within the grace too', async () => {
    const authority = memoryAuthority()
    await authority.login('u', 's', record('u'), 'h0', POLICY, NOW)
    await authority.refresh('u', 's', R(0), POLICY, NOW + 1)
    expect(await authority.refresh('u', 's', R(1), POLICY, NOW + 2)).toMatchObject({ ok: true })
    const reused = await authority.refresh('u', 's', R(0), POLICY, NOW + 3)
    expect(reused).toEqual({ ok: false, refused: 'TOKEN_REVOKED', over: true })
    expect(await authority.read('u', 's', NOW + 3)).toBeNull()
  })

  it('refresh: a current generation with another hash, or one ahead, is refused and ends nothing', async () => {
    const authority = memoryAuthority()
    await authority.login('u', 's', record('u'), 'h0', POLICY, NOW)
    const refused = { ok: false, refused: 'SESSION_EXPIRED', over: false }
    expect(await authority.refresh('u', 's', R(0, 'other'), POLICY, NOW + 1)).toEqual(refused)
    expect(await authority.refresh('u', 's', R(3), POLICY, NOW + 1)).toEqual(refused)
    expect(await authority.read('u', 's', NOW + 1)).not.toBeNull()
  })

  it('a write from a replaced token is refused and ends nothing', async () => {
    const authority = memoryAuthority()
    await authority.login('u', 's', record('u'), 'h0', POLICY, NOW)
    await authority.refresh('u', 's', R(0), POLICY, NOW + 1)
    expect(await authority.write('u', 's', 0, change('a', 1), POLICY, NOW + 2)).toEqual({
      ok: false,
      refused: 'SESSION_EXPIRED',
      over: false,
    })
    expect(await authority.write('u', 's', 1, change('a', 1), POLICY, NOW + 2)).toMatchObject({
      ok: true,
      record: { data: { a: 1 } },
    })
  })

  it('refuses data over the size, depth or key limits', async () => {
    const authority = memoryAuthority()
    await authority.login('u', 's', record('u'), 'h0', POLICY, NOW)
    const big = 'x'.repeat(2000)
    let deep: unknown = 1
    for (let i = 0; i < 40; i++) deep = { a: deep }
    for (const value of [big, deep]) {
      expect(await authority.write('u', 's', 0, change('v', value), POLICY, NOW)).toMatchObject({
        ok: false,
        refused: 'SESSION_TOO_LARGE',
      })
    }
  })

  it('a dead or replaced token cannot end the user’s other sessions', async () => {
    const authority = memoryAuthority()
    await authority.login('u', 'a', record('u'), 'h0', POLICY, NOW)
    await authority.login('u', 'b', record('u', NOW + 1), 'h0', POLICY, NOW + 1)
    await authority.end('u', 'a', NOW + 2)
    const over = { refused: 'SESSION_EXPIRED' }
    expect(await authority.endAll('u', NOW + 3, undefined, { id: 'a', gen: 0 })).toEqual(over)
    expect(await authority.end('u', 'b', NOW + 3, { id: 'a', gen: 0 })).toEqual(over)
    expect(await authority.read('u', 'b', NOW + 3)).not.toBeNull()
    expect(await authority.endAll('u', NOW + 3, undefined, { id: 'b', gen: 0 })).toEqual(['b'])
  })

  it('a replaced token is told what an ended one is (SESSION_EXPIRED), and ends nothing', async () => {
    const authority = memoryAuthority()
    await authority.login('u', 'a', record('u'), 'h0', POLICY, NOW)
    await authority.login('u', 'b', record('u', NOW + 1), 'h0', POLICY, NOW + 1)
    await authority.refresh('u', 'a', R(0), POLICY, NOW + 2)
    const replaced = { refused: 'SESSION_EXPIRED' }
    expect(await authority.endAll('u', NOW + 3, undefined, { id: 'a', gen: 0 })).toEqual(replaced)
    expect(await authority.end('u', 'b', NOW + 3, { id: 'a', gen: 0 })).toEqual(replaced)
    // A generation the authority never had is refused as over (fail closed).
    const ahead = await authority.endAll('u', NOW + 3, undefined, { id: 'a', gen: 5 })
    expect(ahead).toEqual({ refused: 'SESSION_EXPIRED' })
    expect((await authority.list('u', NOW + 3)).map((s) => s.id).sort()).toEqual(['a', 'b'])
  })

  it('forget ends every session and deletes every identity and unionid link it indexed', async () => {
    const kv = sealedKv(memoryKv(), createCipher('Vq3xT9mR2kLp8sWz4nYb7cHf1dJg6aEu-memory'))
    const authority = memoryAuthority({ identities: kv })
    const linked = record('u', NOW, { unionid: 'union-1' })
    await kv.put(identityKey('wxapp', 'o-u'), { v: 1, uid: 'u' }, 3600)
    await kv.put(unionidKey('union-1'), { v: 1, uid: 'u' }, 3600)
    await kv.put(identityKey('wxother', 'o-u2'), { v: 1, uid: 'u' }, 3600)
    await authority.login('u', 's', linked, 'h0', POLICY, NOW)
    await authority.login(
      'u',
      't',
      record('u', NOW + 1, { appId: 'wxother', openid: 'o-u2' }),
      'h0',
      POLICY,
      NOW + 1,
    )
    expect((await authority.forget('u', NOW + 2)).sort()).toEqual(['s', 't'])
    for (const key of [
      identityKey('wxapp', 'o-u'),
      unionidKey('union-1'),
      identityKey('wxother', 'o-u2'),
    ]) {
      expect(await kv.get(key), key).toBeNull()
    }
  })

  it('leaves a unionid link that another user took since', async () => {
    const kv = sealedKv(memoryKv(), createCipher('Vq3xT9mR2kLp8sWz4nYb7cHf1dJg6aEu-memory'))
    const authority = memoryAuthority({ identities: kv })
    await authority.login('u', 's', record('u', NOW, { unionid: 'union-2' }), 'h0', POLICY, NOW)
    await kv.put(unionidKey('union-2'), { v: 1, uid: 'someone-else' }, 3600)
    await authority.forget('u', NOW + 1)
    expect((await kv.get<{ uid: string }>(unionidKey('union-2')))?.value.uid).toBe('someone-else')
  })
})

describe('the profile on the memory authority', () => {
  const avatar = (key: string, trace?: string) => ({
    key,
    type: 'image/png' as const,
    bytes: 10,
    check: 'pending' as const,
    ...(trace ? { trace } : {}),
  })

  it('a new avatar drops the old object; a risky check drops the one it names', async () => {
    const objects = memoryObjects()
    const authority = memoryAuthority({ objects })
    for (const key of ['a1', 'a2']) await objects.put(key, new Uint8Array([1]), 'image/png')
    await authority.updateProfile('u', { avatar: avatar('a1', 't1') }, NOW)
    await authority.updateProfile('u', { avatar: avatar('a2', 't2') }, NOW + 1)
    expect(await objects.get('a1')).toBeNull()
    // The result of the first check comes late: it names an avatar that is gone.
    await authority.updateProfile('u', { avatarChecked: { trace: 't1', result: 'risky' } }, NOW + 2)
    expect((await authority.profile('u', NOW + 2))?.avatar?.key).toBe('a2')
    await authority.updateProfile('u', { avatarChecked: { trace: 't2', result: 'risky' } }, NOW + 3)
    expect(await authority.profile('u', NOW + 3)).toBeNull()
    expect(objects.size).toBe(0)
  })

  it('forget takes the profile and its avatar with the sessions', async () => {
    const objects = memoryObjects()
    const authority = memoryAuthority({ objects })
    await objects.put('a1', new Uint8Array([1]), 'image/png')
    await authority.login('u', 's', record('u'), 'h0', POLICY, NOW)
    await authority.updateProfile(
      'u',
      { nickname: { value: 'Alice', check: 'pass' }, avatar: avatar('a1') },
      NOW,
    )
    await authority.forget('u', NOW + 1)
    expect(await authority.profile('u', NOW + 1)).toBeNull()
    expect(objects.size).toBe(0)
  })
})
