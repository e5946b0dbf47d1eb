// The checker on synthetic histories: a safe one passes, and each property,
// broken on its own, is reported by its own check (and by no other).
import { describe, expect, it } from 'vitest'
import { type CheckName, type CheckOptions, check, inFlightAtCrash } from './checker'
import type { History, Op, Outcome } from './history'

const OPTIONS: CheckOptions = { maxSessions: 3, cacheSeconds: 5, graceSeconds: 30 }
const S = 1000 // ms

const ok = (status = 200): Outcome => ({ type: 'reply', status, code: null })
const no = (status: number, code: string): Outcome => ({ type: 'reply', status, code })
const lost: Outcome = { type: 'error', message: 'fetch failed: other side closed' }

/** A history written as ops without ids; `crash` in seconds. */
function history(ops: Omit<Op, 'id'>[], crash?: [number, number]): History {
  return {
    ops: ops.map((op, id) => ({ ...op, id })),
    crash: crash ? { killedAt: crash[0] * S, restartedAt: crash[1] * S } : null,
  }
}

type Spec = Partial<Omit<Op, 'id' | 'start' | 'end'>> & { at: number; took?: number }
/** One op at `at` seconds, 10 ms long, by user `u` at `edge-0`, answered 200 unless told. */
const op = (kind: Op['kind'], { at, took = 0.01, ...rest }: Spec): Omit<Op, 'id'> => ({
  kind,
  endpoint: rest.strict ? 'strict' : 'edge-0',
  strict: false,
  user: 'u',
  start: at * S,
  end: (at + took) * S,
  outcome: ok(),
  ...rest,
})
const login = (session: string, at: number, user = 'u') =>
  op('login', { at, user, issued: { session, gen: 0 } })
const token = (session: string, gen = 0) => ({ token: { session, gen } })
const write = (session: string, gen: number, n: number, at: number, outcome = ok()) =>
  op('write', { at, ...token(session, gen), write: { key: `k${n}`, value: n }, outcome })
const finalRead = (session: string, gen: number, data: Record<string, unknown> | null, at = 100) =>
  op('final-read', {
    at,
    strict: true,
    ...token(session, gen),
    ...(data ? { data } : { outcome: no(401, 'SESSION_EXPIRED') }),
  })

const failing = (h: History, options: Partial<CheckOptions> = {}): CheckName[] => [
  ...new Set(check(h, { ...OPTIONS, ...options }).map((v) => v.check)),
]

describe('a safe history', () => {
  it('passes: writes, a refresh, a read, a logout, the crash with a write in flight', () => {
    const h = history(
      [
        login('a', 0),
        login('b', 0.1),
        write('a', 0, 1, 1),
        op('refresh', { at: 2, ...token('a'), issued: { session: 'a', gen: 1 } }),
        write('a', 1, 2, 3),
        op('read', { at: 3.5, ...token('a', 1), data: { k1: 1, k2: 2 } }),
        write('a', 1, 3, 9.99, lost), // in flight at the crash: either way
        write('a', 0, 4, 12, no(401, 'TOKEN_REVOKED')),
        op('logout', { at: 13, ...token('b') }),
        // Within the edge window: a copy may still answer.
        op('read', { at: 16, ...token('b'), data: {} }),
        op('read', { at: 16, strict: true, ...token('b'), outcome: no(401, 'SESSION_EXPIRED') }),
        op('read', { at: 30, ...token('b'), outcome: no(401, 'SESSION_EXPIRED') }),
        op('list', { at: 31, ...token('a', 1), listed: ['a'] }),
        finalRead('a', 1, { k1: 1, k2: 2 }),
        finalRead('b', 0, null),
        op('final-list', { at: 101, strict: true, ...token('a', 1), listed: ['a'] }),
      ],
      [10, 11],
    )
    expect(check(h, OPTIONS)).toEqual([])
    expect(inFlightAtCrash(h).map((o) => o.id)).toEqual([6])
  })
})

describe('each property, broken, is reported', () => {
  it('end-never-undone: a read past the edge window, a strict read and a write after the end', () => {
    const ended = [login('a', 0), op('logout', { at: 1, ...token('a') })]
    expect(failing(history([...ended, op('read', { at: 7.2, ...token('a'), data: {} })]))).toEqual([
      'end-never-undone',
    ])
    expect(failing(history([...ended, op('read', { at: 5, ...token('a'), data: {} })]))).toEqual([])
    expect(
      failing(history([...ended, op('read', { at: 1.5, strict: true, ...token('a'), data: {} })])),
    ).toEqual(['end-never-undone'])
    expect(failing(history([...ended, write('a', 0, 1, 1.2)]))).toEqual(['end-never-undone'])
    // The window is the checker's parameter.
    expect(
      failing(history([...ended, op('read', { at: 7.2, ...token('a'), data: {} })]), {
        cacheSeconds: 60,
      }),
    ).toEqual([])
  })

  it('end-never-undone: an eviction a device list proves, and logout-all', () => {
    const evicted = [
      login('a', 0),
      login('b', 1),
      login('c', 2),
      login('d', 3),
      op('list', { at: 4, ...token('d'), listed: ['d', 'c', 'b'] }),
      op('read', { at: 4.5, strict: true, ...token('a'), data: {} }),
      ...['b', 'c', 'd'].map((s) => finalRead(s, 0, {})),
    ]
    expect(failing(history(evicted))).toEqual(['end-never-undone'])
    const all = [
      login('a', 0),
      login('b', 1),
      op('logout-all', { at: 2, ...token('b') }),
      op('refresh', { at: 3, ...token('a'), issued: { session: 'a', gen: 1 } }),
    ]
    expect(failing(history(all))).toEqual(['end-never-undone'])
  })

  it('final-ended: the final strict read finds an ended session live', () => {
    const h = history([
      login('a', 0),
      op('logout', { at: 1, ...token('a') }),
      finalRead('a', 0, {}),
    ])
    expect(failing(h)).toEqual(['final-ended'])
  })

  it('replaced-token-never-writes: a write with generation 0 after the refresh to 1 was answered', () => {
    const h = history([
      login('a', 0),
      op('refresh', { at: 1, ...token('a'), issued: { session: 'a', gen: 1 } }),
      write('a', 0, 1, 2),
      finalRead('a', 1, { k1: 1 }),
    ])
    expect(failing(h)).toEqual(['replaced-token-never-writes'])
  })

  it('acked-write-kept: an acknowledged write is missing from the final read', () => {
    const h = history([login('a', 0), write('a', 0, 1, 1), finalRead('a', 0, {})])
    expect(failing(h)).toEqual(['acked-write-kept'])
    // Unknown outcomes may be either.
    const unknown = history(
      [
        login('a', 0),
        write('a', 0, 1, 1, lost),
        write('a', 0, 2, 1, no(503, 'STORAGE_UNAVAILABLE')),
        finalRead('a', 0, { k2: 2 }),
      ],
      [1, 2],
    )
    expect(failing(unknown)).toEqual([])
  })

  it('refused-write-absent: a refused write is in the final read', () => {
    const h = history(
      [
        login('a', 0),
        write('a', 0, 1, 1, no(401, 'SESSION_EXPIRED')),
        op('logout', { at: 0.5, took: 0.1, ...token('a'), outcome: lost }),
        finalRead('a', 0, { k1: 1 }),
      ],
      [0.5, 0.7],
    )
    expect(failing(h)).toEqual(['refused-write-absent'])
  })

  it('cap: a device list and the final reads over MAX_SESSIONS', () => {
    const four = [login('a', 0), login('b', 1), login('c', 2), login('d', 3)]
    expect(
      failing(
        history([
          ...four,
          op('list', { at: 4, ...token('d'), listed: ['d', 'c', 'b', 'a'] }),
          ...['b', 'c', 'd'].map((s) => finalRead(s, 0, {})),
        ]),
      ),
    ).toEqual(['cap'])
    const finals = ['a', 'b', 'c', 'd'].map((s) => finalRead(s, 0, {}))
    expect(failing(history([...four, ...finals]))).toEqual(['cap'])
  })

  it('untouched-survives: a session nothing ended is gone after the crash', () => {
    const h = history([login('a', 0), write('a', 0, 1, 1), finalRead('a', 0, null)], [5, 6])
    expect(failing(h)).toEqual(['untouched-survives'])
    // The cap could have ended it: no finding.
    const capped = history([
      login('a', 0),
      login('b', 1),
      login('c', 2),
      login('d', 3),
      finalRead('a', 0, null),
      finalRead('b', 0, {}),
      finalRead('c', 0, {}),
      finalRead('d', 0, {}),
    ])
    expect(failing(capped)).toEqual([])
  })

  it('no-false-end: SESSION_EXPIRED, or a device list without it, when nothing could end it', () => {
    const expired = history([
      login('a', 0),
      op('read', { at: 1, ...token('a'), outcome: no(401, 'SESSION_EXPIRED') }),
      finalRead('a', 0, {}),
    ])
    expect(failing(expired)).toEqual(['no-false-end'])
    const unlisted = history([
      login('a', 0),
      login('b', 1),
      op('list', { at: 2, ...token('b'), listed: ['b'] }),
      op('logout', { at: 3, ...token('a') }), // an edge's copy may still take it
      finalRead('a', 0, null),
      finalRead('b', 0, {}),
    ])
    expect(failing(unlisted)).toEqual(['no-false-end'])
    // After a logout with no answer it may well be over.
    const maybe = history(
      [
        login('a', 0),
        op('logout', { at: 1, ...token('a'), outcome: lost }),
        op('read', { at: 2, ...token('a'), outcome: no(401, 'SESSION_EXPIRED') }),
      ],
      [1, 1.5],
    )
    expect(failing(maybe)).toEqual([])
  })

  it('no-false-end: a replaced access token is told SESSION_EXPIRED, which is no end', () => {
    const h = history([
      login('a', 0),
      op('refresh', { at: 1, ...token('a'), issued: { session: 'a', gen: 1 } }),
      op('read', { at: 2, ...token('a'), outcome: no(401, 'SESSION_EXPIRED') }),
      finalRead('a', 1, {}),
    ])
    expect(failing(h)).toEqual([])
  })

  it('no-false-revocation: TOKEN_REVOKED with no refresh of that generation', () => {
    const h = history([
      login('a', 0),
      op('read', { at: 1, ...token('a'), outcome: no(401, 'TOKEN_REVOKED') }),
      finalRead('a', 0, {}),
    ])
    expect(failing(h)).toEqual(['no-false-revocation'])
  })

  it('grace: two refreshes of one token at once end the session (0.2), which the grace forbids', () => {
    const race = [
      login('a', 0),
      op('refresh', { at: 1, ...token('a'), issued: { session: 'a', gen: 1 } }),
      op('refresh', {
        at: 1,
        endpoint: 'edge-1',
        ...token('a'),
        outcome: no(401, 'TOKEN_REVOKED'),
      }),
      finalRead('a', 1, null),
    ]
    expect(failing(history(race))).toEqual(['grace'])
    expect(failing(history(race), { graceSeconds: 0 })).toEqual([])
    // Past the grace, reuse ends the session.
    const late = [
      login('a', 0),
      op('refresh', { at: 1, ...token('a'), issued: { session: 'a', gen: 1 } }),
      op('refresh', { at: 40, ...token('a'), outcome: no(401, 'TOKEN_REVOKED') }),
      finalRead('a', 1, null),
    ]
    expect(failing(history(late))).toEqual([])
  })

  it('reuse-ends-session: a refresh of a token replaced long ago (or twice) answered with a token', () => {
    const late = (at: number) =>
      history([
        login('a', 0),
        op('refresh', { at: 1, ...token('a'), issued: { session: 'a', gen: 1 } }),
        op('refresh', { at, ...token('a'), issued: { session: 'a', gen: 1 } }),
        finalRead('a', 1, {}),
      ])
    expect(failing(late(40))).toEqual(['reuse-ends-session'])
    expect(failing(late(5))).toEqual([])
    expect(failing(late(5), { graceSeconds: 0 })).toEqual(['reuse-ends-session'])
    const twice = history([
      login('a', 0),
      op('refresh', { at: 1, ...token('a'), issued: { session: 'a', gen: 1 } }),
      op('refresh', { at: 2, ...token('a', 1), issued: { session: 'a', gen: 2 } }),
      op('refresh', { at: 3, ...token('a'), issued: { session: 'a', gen: 2 } }),
      finalRead('a', 2, {}),
    ])
    expect(failing(twice)).toEqual(['reuse-ends-session'])
  })

  it('replay-ends-session: a refresh token replayed past the grace is refused, and the session lives on', () => {
    const replay = (at: number, outcome: Outcome, final: Record<string, unknown> | null) =>
      history([
        login('a', 0),
        op('refresh', { at: 1, ...token('a'), issued: { session: 'a', gen: 1 } }),
        op('refresh', { at, ...token('a'), outcome }),
        finalRead('a', 1, final),
      ])
    expect(failing(replay(40, no(401, 'TOKEN_INVALID'), {}))).toEqual(['replay-ends-session'])
    // Reuse answered as such must end it: a live final read is caught.
    expect(failing(replay(40, no(401, 'TOKEN_REVOKED'), {}))).toEqual(['final-ended'])
    expect(failing(replay(40, no(401, 'TOKEN_REVOKED'), null))).toEqual([])
    // Within the grace, a refused replay says nothing about reuse.
    expect(failing(replay(5, no(401, 'TOKEN_INVALID'), {}))).toEqual([])
    // Two replays at once: one ends the session, the other finds it ended.
    const racing = history([
      login('a', 0),
      op('refresh', { at: 1, ...token('a'), issued: { session: 'a', gen: 1 } }),
      op('refresh', { at: 40, took: 0.05, ...token('a'), outcome: no(401, 'SESSION_EXPIRED') }),
      op('refresh', { at: 40.01, ...token('a'), outcome: no(401, 'TOKEN_REVOKED') }),
      finalRead('a', 1, null),
    ])
    expect(failing(racing)).toEqual([])
    // After the reuse, nothing is acknowledged.
    const after = history([
      login('a', 0),
      op('refresh', { at: 1, ...token('a'), issued: { session: 'a', gen: 1 } }),
      op('refresh', { at: 40, ...token('a'), outcome: no(401, 'TOKEN_REVOKED') }),
      write('a', 1, 1, 41),
      finalRead('a', 1, null),
    ])
    expect(failing(after)).toEqual(['end-never-undone'])
  })

  it('access-never-refreshes: an access token answered with a token at /auth/refresh', () => {
    const stolen = (outcome: Outcome, issued?: { session: string; gen: number }) =>
      history([
        login('a', 0),
        op('steal', { at: 1, ...token('a'), outcome, ...(issued ? { issued } : {}) }),
        finalRead('a', 0, {}),
      ])
    expect(failing(stolen(ok(), { session: 'a', gen: 1 }))).toEqual(['access-never-refreshes'])
    expect(failing(stolen(no(401, 'AUTH_REQUIRED')))).toEqual([])
    expect(failing(stolen(no(401, 'TOKEN_INVALID')))).toEqual([])
  })

  describe('a ban', () => {
    const banned = no(403, 'USER_BANNED')
    // Two sessions, a ban at 2 s acknowledged at 2.01 s, an unban begun at 20 s.
    const day = (extra: Omit<Op, 'id'>[]) =>
      history([
        login('a', 0),
        login('b', 0.5),
        op('ban', { at: 2 }),
        op('login', { at: 3, outcome: banned }),
        op('refresh', { at: 3.5, ...token('a'), outcome: banned }),
        op('read', { at: 4, ...token('b'), data: {} }), // an edge copy, within the window
        op('read', { at: 9, ...token('b'), outcome: no(401, 'SESSION_EXPIRED') }),
        op('logout', { at: 10, ...token('a') }), // idempotent: may answer 200
        op('unban', { at: 20 }),
        login('c', 21),
        ...extra,
        finalRead('a', 0, null),
        finalRead('b', 0, null),
        finalRead('c', 0, {}),
      ])

    it('ends every session, refuses logins and refreshes until the unban: safe', () => {
      expect(check(day([]), OPTIONS)).toEqual([])
    })

    it('banned-never-served: a login, a refresh, a strict read or an edge read past the window', () => {
      expect(failing(day([login('x', 3.2), finalRead('x', 0, {})]))).toEqual([
        'banned-never-served',
      ])
      const refreshed = op('refresh', { at: 2.5, ...token('b'), issued: { session: 'b', gen: 1 } })
      expect(failing(day([refreshed]))).toContain('banned-never-served')
      const strict = op('read', { at: 2.5, strict: true, ...token('b'), data: {} })
      expect(failing(day([strict]))).toContain('banned-never-served')
      const late = op('read', { at: 8.5, ...token('b'), data: {} })
      expect(failing(day([late]))).toContain('banned-never-served')
      // A login that began before the ban was acknowledged may come first; one after the unban began is fine.
      expect(failing(day([login('x', 2.005)]))).not.toContain('banned-never-served')
      expect(
        failing(day([op('login', { at: 19.995, took: 0.2, issued: { session: 'x', gen: 0 } })])),
      ).not.toContain('banned-never-served')
      // Nothing counts once the window is the checker's.
      expect(failing(day([late]), { cacheSeconds: 60 })).not.toContain('banned-never-served')
    })

    it('no-false-ban: USER_BANNED before any ban began', () => {
      const h = history([
        login('a', 0),
        op('login', { at: 1, outcome: banned }),
        finalRead('a', 0, {}),
      ])
      expect(failing(h)).toEqual(['no-false-ban'])
    })
  })

  it('no-500, 5xx-only-storage-at-crash, errors-only-at-crash', () => {
    const base = [login('a', 0), finalRead('a', 0, {})]
    const with_ = (extra: Omit<Op, 'id'>) => history([...base, extra], [10, 11])
    expect(
      failing(with_(op('read', { at: 1, ...token('a'), outcome: no(500, 'INTERNAL_ERROR') }))),
    ).toEqual(['no-500'])
    expect(
      failing(with_(op('read', { at: 1, ...token('a'), outcome: no(503, 'STORAGE_UNAVAILABLE') }))),
    ).toEqual(['5xx-only-storage-at-crash'])
    expect(
      failing(with_(op('read', { at: 9, ...token('a'), outcome: no(503, 'STORAGE_UNAVAILABLE') }))),
    ).toEqual([])
    expect(
      failing(with_(op('read', { at: 9, ...token('a'), outcome: no(502, 'WECHAT_ERROR') }))),
    ).toEqual(['5xx-only-storage-at-crash'])
    // The set of storage codes is a parameter.
    expect(
      failing(
        with_(op('read', { at: 9, ...token('a'), outcome: no(503, 'STORAGE_OUTCOME_UNKNOWN') })),
        {
          unknownOutcomeCodes: ['STORAGE_UNAVAILABLE', 'STORAGE_OUTCOME_UNKNOWN'],
        },
      ),
    ).toEqual([])
    expect(failing(with_(op('read', { at: 30, ...token('a'), outcome: lost })))).toEqual([
      'errors-only-at-crash',
    ])
    expect(failing(with_(op('read', { at: 9.99, ...token('a'), outcome: lost })))).toEqual([])
  })
})
