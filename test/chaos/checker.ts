// The safety checks of a chaos run, as a pure function of its history: what
// the servers acknowledged (a 2xx) must hold, whatever was cached, replaced,
// in flight or killed. Writes and ends whose outcome is unknown (no answer, a
// 5xx) may have happened or not; the checks allow both.
import {
  acked,
  codeOf,
  type History,
  type Op,
  type OpKind,
  refused,
  statusOf,
  unknown,
} from './history'

export interface CheckOptions {
  /** MAX_SESSIONS of the servers. */
  maxSessions: number
  /** SESSION_CACHE_SECONDS as the checker assumes it: how long an edge endpoint may answer from a copy. */
  cacheSeconds: number
  /** Seconds of slack on every time comparison: the servers count whole seconds. @default 1 */
  marginSeconds?: number
  /**
   * REFRESH_GRACE_SECONDS as the checker assumes it: a refresh token that a
   * refresh replaced less than this long ago (its successor unused) gets that
   * refresh's answer again and ends nothing; 0 = none. @default 30
   */
  graceSeconds?: number
  /** How near the crash (seconds before the kill, after the restart) a 503 or a network error may be. @default 5 */
  crashWindowSeconds?: number
  /** The codes a 503 may carry: those meaning storage failed and the outcome is unknown. @default ['STORAGE_UNAVAILABLE'] */
  unknownOutcomeCodes?: readonly string[]
  /** The codes of a 401 to a refresh that may mean reuse, which ends the session. @default ['TOKEN_REVOKED'] */
  reuseCodes?: readonly string[]
}

export const CHECKS = {
  'end-never-undone':
    'no read or write of an ended session answers 2xx after the end was acknowledged (reads at an edge endpoint: after the cache window); a logout, idempotent, may',
  'final-ended': 'the final strict read of a session with an acknowledged end says SESSION_EXPIRED',
  'replaced-token-never-writes':
    'a session write with a token a refresh replaced, started after that refresh was acknowledged, is refused',
  'acked-write-kept': 'every acknowledged write is in the final strict read of a live session',
  'refused-write-absent': 'no refused (4xx) write is in the final strict read',
  cap: 'never more than MAX_SESSIONS live sessions per user',
  'untouched-survives':
    'a session nothing could have ended (logout, revocation, logout-all, the cap, reuse) is live in the final strict read',
  'no-false-end':
    'SESSION_EXPIRED, or a device list without the session, only once something could have ended it (or a refresh replaced the access token presented)',
  'no-false-revocation': 'TOKEN_REVOKED only once a refresh could have replaced the refresh token',
  grace:
    'refreshing with a refresh token replaced less than the grace ago (its successor unused) does not end the session',
  'reuse-ends-session':
    'a refresh token replayed outside the grace (or once its successor was used) is not answered with a token',
  'replay-ends-session':
    'a refresh token replayed outside the grace (or once its successor was used) ends the session: TOKEN_REVOKED, and nothing after it is acknowledged',
  'access-never-refreshes': 'no access token ever yields a token at /auth/refresh',
  'banned-never-served':
    'no request of a banned user answers 2xx once the ban was acknowledged and before an unban began: a login, a refresh, a write or a strict read at once, an edge read after the cache window; a logout, idempotent, may',
  'no-false-ban': 'USER_BANNED only once a ban of the user had begun',
  'no-500': 'no 500, ever',
  '5xx-only-storage-at-crash':
    'the only 5xx is a 503 with a storage-outcome-unknown code, and only around the crash',
  'errors-only-at-crash': 'requests go unanswered only around the crash',
} as const

export type CheckName = keyof typeof CHECKS

export interface Violation {
  check: CheckName
  message: string
  /** The ops that show it; the first is the one at fault. */
  ops: number[]
  session?: string
}

interface Session {
  id: string
  user: string
  login: Op | undefined
  /** Ops that presented a token of this session, by start. */
  uses: Op[]
  /** The acknowledged end: the earliest time the session was surely over, and the op that shows it. */
  ended: { at: number; by: Op } | undefined
  /** Ops that may have ended it (acknowledged or unknown), with the earliest time each could take effect. */
  possibleEnds: { at: number; by: Op }[]
  final: Op | undefined
}

const READS: ReadonlySet<OpKind> = new Set(['read', 'list', 'logout', 'revoke', 'logout-all'])
const WRITES: ReadonlySet<OpKind> = new Set(['write', 'refresh'])

/** Every violation of the checks in {@link CHECKS} that the history shows; none when it is safe. */
export function check(history: History, options: CheckOptions): Violation[] {
  const {
    maxSessions,
    cacheSeconds,
    marginSeconds = 1,
    graceSeconds = 30,
    crashWindowSeconds = 5,
    unknownOutcomeCodes = ['STORAGE_UNAVAILABLE'],
    reuseCodes = ['TOKEN_REVOKED'],
  } = options
  const reuse = (op: Op) => {
    const code = codeOf(op)
    return statusOf(op) === 401 && code !== null && reuseCodes.includes(code)
  }
  const margin = marginSeconds * 1000
  const ops = [...history.ops].sort((a, b) => a.start - b.start || a.id - b.id)
  const violations: Violation[] = []
  const report = (check: CheckName, message: string, at: Op[], session?: string) =>
    violations.push({ check, message, ops: at.map((op) => op.id), ...(session ? { session } : {}) })
  const describe = (op: Op) =>
    `#${op.id} ${op.kind} at ${op.endpoint}${op.token ? ` gen ${op.token.gen}` : ''} [${(op.start / 1000).toFixed(3)}s, ${(op.end / 1000).toFixed(3)}s] → ${op.outcome.type === 'reply' ? `${op.outcome.status}${op.outcome.code ? ` ${op.outcome.code}` : ''}` : `error (${op.outcome.message})`}`

  // The sessions, from the logins that gave a token and from every token presented.
  const sessions = new Map<string, Session>()
  const sessionOf = (id: string, user: string) => {
    let s = sessions.get(id)
    if (!s) {
      s = {
        id,
        user,
        login: undefined,
        uses: [],
        ended: undefined,
        possibleEnds: [],
        final: undefined,
      }
      sessions.set(id, s)
    }
    return s
  }
  for (const op of ops) {
    if (op.kind === 'login' && op.issued && acked(op))
      sessionOf(op.issued.session, op.user).login = op
    if (op.token) {
      const s = sessionOf(op.token.session, op.user)
      if (op.kind === 'final-read') s.final = op
      else s.uses.push(op)
    }
  }
  const byUser = new Map<string, Session[]>()
  for (const s of sessions.values()) byUser.set(s.user, [...(byUser.get(s.user) ?? []), s])
  /** When the session surely existed: its login's answer (or its first use). */
  const bornAt = (s: Session) => s.login?.end ?? s.uses[0]?.start ?? Infinity
  /** When it may have begun to exist: its login's start. */
  const bornFrom = (s: Session) => s.login?.start ?? s.uses[0]?.start ?? -Infinity
  const endAt = (s: Session, at: number, by: Op) => {
    if (!s.ended || at < s.ended.at) s.ended = { at, by }
  }
  const mayEnd = (s: Session, at: number, by: Op) => s.possibleEnds.push({ at, by })

  for (const op of ops) {
    const own = op.token ? sessions.get(op.token.session) : undefined
    const mates = byUser.get(op.user) ?? []
    switch (op.kind) {
      case 'logout':
        if (own && acked(op)) endAt(own, op.end, op)
        if (own && !refused(op)) mayEnd(own, op.start, op)
        break
      case 'revoke': {
        const target = op.target ? sessions.get(op.target) : undefined
        if (target && acked(op)) endAt(target, op.end, op)
        if (target && !refused(op)) mayEnd(target, op.start, op)
        break
      }
      case 'logout-all':
      case 'ban':
        for (const s of mates) {
          // Every session that surely existed when it began; any that may have existed when it ended.
          if (acked(op) && bornAt(s) < op.start) endAt(s, op.end, op)
          if (!refused(op) && bornFrom(s) < op.end) mayEnd(s, op.start, op)
        }
        break
      case 'list':
      case 'final-list':
        // A session that surely existed before the list began and is not in it had ended: a proven end.
        if (acked(op) && op.listed) {
          for (const s of mates) {
            if (bornAt(s) < op.start && !op.listed.includes(s.id)) endAt(s, op.end, op)
          }
        }
        break
      case 'refresh':
        // Reuse (401 TOKEN_REVOKED) ends the session, surely; a refresh with no answer may.
        if (own && (unknown(op) || reuse(op))) mayEnd(own, op.start, op)
        if (own && reuse(op)) endAt(own, op.end, op)
        break
    }
  }
  // The cap: a session ends when a login leaves MAX_SESSIONS newer live ones. Only a login
  // that was not over before this session's began can be newer, and only one that reached
  // the session object (not refused) counts.
  for (const [user, mates] of byUser) {
    const logins = ops.filter((op) => op.kind === 'login' && op.user === user && !refused(op))
    for (const s of mates) {
      const newer = logins.filter((l) => l !== s.login && l.end > bornFrom(s))
      const evicting = newer[maxSessions - 1]
      if (evicting) mayEnd(s, evicting.start, evicting)
    }
  }
  const possiblyEndedBefore = (s: Session, time: number, except?: Op) =>
    s.possibleEnds.find((p) => p.by !== except && p.at < time)

  /** When a refresh acknowledged a token newer than `gen`: `gen` was replaced by then. */
  const replacedAt = (s: Session, gen: number, except?: Op) => {
    let at = Infinity
    for (const op of s.uses) {
      if (op !== except && op.kind === 'refresh' && acked(op) && op.issued && op.issued.gen > gen)
        at = Math.min(at, op.end)
    }
    return at
  }
  /** Refreshes that presented `gen` and may have replaced it (not refused), started before `before`. */
  const replacers = (s: Session, gen: number, before: number, except: Op) =>
    s.uses.filter(
      (op) =>
        op !== except &&
        op.kind === 'refresh' &&
        op.token?.gen === gen &&
        !refused(op) &&
        op.start < before,
    )

  for (const s of sessions.values()) {
    // end-never-undone
    if (s.ended) {
      const { at, by } = s.ended
      for (const op of s.uses) {
        // A logout is idempotent: ok for a session already over, and it brings nothing back.
        if (!acked(op) || op === by || op.kind === 'logout') continue
        const immediate = WRITES.has(op.kind) || op.strict
        const deadline = immediate ? at : at + cacheSeconds * 1000 + margin
        if ((WRITES.has(op.kind) || READS.has(op.kind)) && op.start > deadline) {
          report(
            'end-never-undone',
            `${describe(op)}: started ${((op.start - at) / 1000).toFixed(3)} s after the end was acknowledged by ${describe(by)}${immediate ? '' : ` (edge window ${cacheSeconds} s)`}`,
            [op, by],
            s.id,
          )
        }
      }
      // final-ended
      if (s.final && !unknown(s.final) && codeOf(s.final) !== 'SESSION_EXPIRED') {
        report(
          'final-ended',
          `${describe(s.final)}: the end was acknowledged by ${describe(by)}`,
          [s.final, by],
          s.id,
        )
      }
    }

    for (const op of s.uses) {
      const gen = op.token?.gen ?? 0
      // replaced-token-never-writes
      if (op.kind === 'write' && acked(op)) {
        const at = replacedAt(s, gen)
        if (op.start > at) {
          report(
            'replaced-token-never-writes',
            `${describe(op)}: generation ${gen} was replaced ${((op.start - at) / 1000).toFixed(3)} s before it began`,
            [op],
            s.id,
          )
        }
      }
      // reuse-ends-session
      if (op.kind === 'refresh' && acked(op)) {
        const at = replacedAt(s, gen, op)
        const twice = replacedAt(s, gen + 1, op)
        if (op.start > twice || op.start > at + graceSeconds * 1000 + margin) {
          report(
            'reuse-ends-session',
            `${describe(op)}: generation ${gen} was replaced ${((op.start - at) / 1000).toFixed(3)} s before${op.start > twice ? ', and so was the next one' : ''}, past the grace of ${graceSeconds} s`,
            [op],
            s.id,
          )
        }
      }
      // replay-ends-session
      if (op.kind === 'refresh' && refused(op) && !reuse(op)) {
        const at = replacedAt(s, gen, op)
        const twice = replacedAt(s, gen + 1, op)
        const late = op.start > twice || op.start > at + graceSeconds * 1000 + margin
        // Anything begun before its answer may have ended the session first (a concurrent reuse).
        if (late && !possiblyEndedBefore(s, op.end, op)) {
          report(
            'replay-ends-session',
            `${describe(op)}: generation ${gen} was replaced ${((op.start - at) / 1000).toFixed(3)} s before, past the grace, and nothing else had ended the session: reuse must end it`,
            [op],
            s.id,
          )
        }
      }
      // access-never-refreshes
      if (op.kind === 'steal' && (acked(op) || op.issued)) {
        report('access-never-refreshes', `${describe(op)}: an access token got a token`, [op], s.id)
      }
      // grace
      if (op.kind === 'refresh' && reuse(op) && graceSeconds > 0) {
        const first = replacers(s, gen, op.end, op)[0]
        // Only when nothing could have replaced the next generation too.
        const further = s.uses.some(
          (r) =>
            r.kind === 'refresh' &&
            (r.token?.gen ?? 0) > gen &&
            !refused(r) &&
            r.start < op.end &&
            r !== op,
        )
        if (first && !further && op.end - first.start < graceSeconds * 1000 - margin) {
          report(
            'grace',
            `${describe(op)}: its generation ${gen} was replaced at most ${((op.end - first.start) / 1000).toFixed(3)} s before, by ${describe(first)}; the grace is ${graceSeconds} s`,
            [op, first],
            s.id,
          )
        }
      }
      // no-false-revocation
      if (codeOf(op) === 'TOKEN_REVOKED' && replacers(s, gen, op.end, op).length === 0) {
        report(
          'no-false-revocation',
          `${describe(op)}: no refresh of generation ${gen} had begun`,
          [op],
          s.id,
        )
      }
      // no-false-end: an access token a refresh (of its generation or later) replaced is told the same
      const replacedToken =
        op.kind !== 'refresh' &&
        s.uses.some(
          (r) =>
            r.kind === 'refresh' && !refused(r) && (r.token?.gen ?? 0) >= gen && r.start < op.end,
        )
      if (
        codeOf(op) === 'SESSION_EXPIRED' &&
        !replacedToken &&
        !possiblyEndedBefore(s, op.end, op)
      ) {
        report(
          'no-false-end',
          `${describe(op)}: nothing could have ended the session (login ${s.login ? describe(s.login) : 'unknown'})`,
          [op, ...(s.login ? [s.login] : [])],
          s.id,
        )
      }
    }
  }

  // no-false-end (device lists), cap
  for (const op of ops) {
    if ((op.kind !== 'list' && op.kind !== 'final-list') || !acked(op) || !op.listed) continue
    if (op.listed.length > maxSessions) {
      report(
        'cap',
        `${describe(op)}: ${op.listed.length} live sessions, MAX_SESSIONS is ${maxSessions}`,
        [op],
      )
    }
    for (const s of byUser.get(op.user) ?? []) {
      if (bornAt(s) < op.start && !op.listed.includes(s.id) && !possiblyEndedBefore(s, op.end)) {
        report(
          'no-false-end',
          `${describe(op)}: does not list ${s.id.slice(0, 8)}…, which nothing could have ended`,
          [op, ...(s.login ? [s.login] : [])],
          s.id,
        )
      }
    }
  }
  for (const [user, mates] of byUser) {
    const live = mates.filter((s) => s.final && acked(s.final))
    if (live.length > maxSessions) {
      report(
        'cap',
        `${user}: ${live.length} sessions live in the final strict reads, MAX_SESSIONS is ${maxSessions}`,
        live.map((s) => s.final as Op),
      )
    }
  }

  for (const s of sessions.values()) {
    // untouched-survives
    if (s.login && s.possibleEnds.length === 0 && !(s.final && acked(s.final))) {
      report(
        'untouched-survives',
        s.final
          ? `${describe(s.final)}: nothing could have ended the session of ${describe(s.login)}`
          : `no final read of the session of ${describe(s.login)}`,
        s.final ? [s.final, s.login] : [s.login],
        s.id,
      )
    }
    // acked-write-kept, refused-write-absent
    const data = s.final && acked(s.final) ? s.final.data : undefined
    if (!data) continue
    for (const op of s.uses) {
      if (op.kind !== 'write' || !op.write) continue
      const { key, value } = op.write
      if (acked(op) && data[key] !== value) {
        report(
          'acked-write-kept',
          `${describe(op)}: ${key} is ${JSON.stringify(data[key])} in the final read, not ${value}`,
          [op, s.final as Op],
          s.id,
        )
      }
      if (refused(op) && Object.hasOwn(data, key)) {
        report(
          'refused-write-absent',
          `${describe(op)}: ${key} = ${JSON.stringify(data[key])} is in the final read`,
          [op, s.final as Op],
          s.id,
        )
      }
    }
  }

  // banned-never-served, no-false-ban
  const IMMEDIATE: ReadonlySet<OpKind> = new Set(['login', 'refresh', 'write'])
  for (const ban of ops) {
    if (ban.kind !== 'ban' || !acked(ban)) continue
    // Until an unban that may come after it began: one over before the ban began does not count.
    const lifted = Math.min(
      ...ops
        .filter(
          (u) => u.kind === 'unban' && u.user === ban.user && !refused(u) && u.end > ban.start,
        )
        .map((u) => u.start),
    )
    for (const op of ops) {
      if (op.user !== ban.user || !acked(op) || op.end >= lifted) continue
      if (op.kind === 'code' || op.kind === 'logout' || op.kind === 'ban' || op.kind === 'unban')
        continue
      const immediate = IMMEDIATE.has(op.kind) || op.strict
      const deadline = immediate ? ban.end : ban.end + cacheSeconds * 1000 + margin
      if (op.start > deadline) {
        report(
          'banned-never-served',
          `${describe(op)}: started ${((op.start - ban.end) / 1000).toFixed(3)} s after the ban was acknowledged by ${describe(ban)}${immediate ? '' : ` (edge window ${cacheSeconds} s)`}`,
          [op, ban],
          op.token?.session,
        )
      }
    }
  }
  for (const op of ops) {
    if (codeOf(op) !== 'USER_BANNED') continue
    const ban = ops.find(
      (b) => b.kind === 'ban' && b.user === op.user && !refused(b) && b.start < op.end,
    )
    if (!ban) report('no-false-ban', `${describe(op)}: no ban of ${op.user} had begun`, [op])
  }

  // no-500, 5xx-only-storage-at-crash, errors-only-at-crash
  const window = crashWindowSeconds * 1000
  const nearCrash = (op: Op) =>
    history.crash !== null &&
    op.end >= history.crash.killedAt - window &&
    op.start <= history.crash.restartedAt + window
  for (const op of ops) {
    const status = statusOf(op)
    if (status === 500) report('no-500', describe(op), [op])
    else if (status !== undefined && status > 500) {
      const code = codeOf(op)
      if (status !== 503 || code === null || !unknownOutcomeCodes.includes(code)) {
        report('5xx-only-storage-at-crash', `${describe(op)}: not a storage 503`, [op])
      } else if (!nearCrash(op)) {
        report('5xx-only-storage-at-crash', `${describe(op)}: away from the crash`, [op])
      }
    } else if (status === undefined && !nearCrash(op)) {
      report('errors-only-at-crash', describe(op), [op])
    }
  }
  return violations
}

/** Ops that were in flight when the cluster was killed. */
export const inFlightAtCrash = (history: History) =>
  history.crash === null
    ? []
    : history.ops.filter(
        (op) =>
          op.start < (history.crash?.killedAt ?? 0) && op.end >= (history.crash?.killedAt ?? 0),
      )
