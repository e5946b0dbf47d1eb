import type { RefreshPresented, RefreshState } from '../token/refresh'
import { exceedsShape } from './limits'
import type {
  Ban,
  BanRefused,
  Caller,
  CallerRefused,
  Outcome,
  Refusal,
  SessionChange,
  SessionPolicy,
  SessionRecord,
  SessionSummary,
} from './record'

/**
 * One session as its authority keeps it: live with its record, or ended (a
 * tombstone, kept until the session's last expiry so that nothing late can
 * bring it back).
 */
export interface StoredSession {
  id: string
  /** Null once ended. */
  record: SessionRecord | null
  /** Unix seconds: the row may go then. */
  expiresAt: number
  createdAtMs: number
  /**
   * The hashes of the session's refresh tokens; never in the KV replica.
   * Absent in sessions of 0.3 and earlier: they cannot be refreshed.
   */
  refresh?: RefreshState
}

/**
 * Where a session authority keeps one user's sessions. The rules below run
 * on it synchronously, so an implementation with atomic operations (a
 * Durable Object's SQLite, a Redis script) applies each rule as one step.
 */
export interface SessionTable {
  get(id: string): StoredSession | undefined
  put(session: StoredSession): void
  /** The rows whose session is live at `now` (not ended, not expired). */
  live(now: number): StoredSession[]
}

const encoder = new TextEncoder()
const bytes = (data: object) => encoder.encode(JSON.stringify(data)).length

/**
 * Over a limit (bytes, nesting, keys) and changed for the worse: deleting
 * from a session already over the byte limit (the limit was lowered) still works.
 */
function tooLarge(data: object, before: object, { maxBytes }: SessionPolicy) {
  if (exceedsShape(data) && !exceedsShape(before)) return true
  const size = bytes(data)
  return size > maxBytes && size > bytes(before)
}

const refuse = (refused: Refusal, over = false): Outcome => ({ ok: false, refused, over })

/** The ban when it holds at `now` (none, or lifted at its `until`: null). */
export const banHolds = (ban: Ban | null | undefined, now: number): Ban | null =>
  ban && (ban.until === undefined || ban.until > now) ? ban : null

/** Why a banned user may not log in or refresh, or undefined when no ban holds. */
export function bannedRefusal(ban: Ban | null | undefined, now: number): BanRefused | undefined {
  const holds = banHolds(ban, now)
  if (!holds) return undefined
  return { refused: 'USER_BANNED', ...(holds.until !== undefined ? { until: holds.until } : {}) }
}

/** Why the caller's session may not act, or undefined when it is live and of its token's generation. */
export function callerRefused(
  table: SessionTable,
  { id, gen }: Caller,
  now: number,
): CallerRefused | undefined {
  const record = live(table.get(id), now)
  // A generation ahead of the session's was minted and lost: fail closed. A
  // replaced token is told nothing more than an ended one (see `write`).
  if (!record || gen !== record.gen) return { refused: 'SESSION_EXPIRED' }
  return undefined
}

const live = (stored: StoredSession | undefined, now: number): SessionRecord | null =>
  stored?.record && stored.record.expiresAt > now ? stored.record : null

function endSession(table: SessionTable, { refresh: _, ...stored }: StoredSession) {
  table.put({ ...stored, record: null })
}

/** Applies `change` to `data`; own properties only, whatever the key. */
function applyChange(data: Record<string, unknown>, change: SessionChange) {
  const next: Record<string, unknown> = { ...data }
  for (const [key, value] of change.set) {
    Object.defineProperty(next, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  for (const key of change.delete) delete next[key]
  return next
}

/**
 * Ends every live session of the user (of one app, with `appId`); returns
 * their ids, or why `by` (the caller's own session) may not: over, or replaced.
 */
function endAll(table: SessionTable, now: number, appId?: string): string[]
function endAll(
  table: SessionTable,
  now: number,
  appId: string | undefined,
  by: Caller | undefined,
): string[] | CallerRefused
function endAll(
  table: SessionTable,
  now: number,
  appId?: string,
  by?: Caller,
): string[] | CallerRefused {
  const refused = by && callerRefused(table, by, now)
  if (refused) return refused
  const ended = table.live(now).filter((s) => appId === undefined || s.record?.appId === appId)
  for (const s of ended) endSession(table, s)
  return ended.map((s) => s.id)
}

/**
 * The session rules, each a synchronous step on one user's table. Every
 * store runs them the same way, through `runStep` (see `transactional.ts`).
 */
export const rules = {
  /**
   * A new session; the oldest live ones end when more than `maxSessions`
   * would be live. `ended` are the sessions the cap ended, oldest last (the
   * new one among them when it was older than the others). A user under a
   * ban gets none (`USER_BANNED`).
   */
  login(
    table: SessionTable,
    id: string,
    record: SessionRecord,
    refreshHash: string,
    policy: SessionPolicy,
    now: number,
    ban: Ban | null = null,
  ): { sessionId: string; ended: string[] } | BanRefused {
    const banned = bannedRefusal(ban, now)
    if (banned) return banned
    table.put({
      id,
      record,
      expiresAt: record.expiresAt,
      createdAtMs: record.createdAtMs,
      refresh: { hash: refreshHash },
    })
    const sessions = table.live(now).sort((a, b) => b.createdAtMs - a.createdAtMs)
    const evicted = sessions.slice(policy.maxSessions)
    for (const s of evicted) endSession(table, s)
    return { sessionId: id, ended: evicted.map((s) => s.id) }
  },

  read: (table: SessionTable, id: string, now: number) => live(table.get(id), now),
  /** `read` of the one row a store fetched by itself (Redis: HGET of the session's field). */
  readRow: (stored: StoredSession | undefined, now: number) => live(stored, now),

  /** Applies a data change from a token of generation `gen`. */
  write(
    table: SessionTable,
    id: string,
    gen: number,
    change: SessionChange,
    policy: SessionPolicy,
    now: number,
  ): Outcome {
    const stored = table.get(id)
    const record = live(stored, now)
    if (!stored || !record) return refuse('SESSION_EXPIRED', true)
    // A replaced access token is refused as an ended session is, so that
    // polling tells a thief nothing; the session lives on (not `over`). A
    // generation ahead was minted and then lost: fail closed.
    if (gen !== record.gen) return refuse('SESSION_EXPIRED')
    const data = applyChange(record.data, change)
    if (tooLarge(data, record.data, policy)) return refuse('SESSION_TOO_LARGE')
    const next = { ...record, data }
    table.put({ ...stored, record: next })
    return { ok: true, record: next }
  },

  /**
   * A refresh by refresh token: a new generation of the session, the
   * presented token replaced by its successor (`presented.next`). Only a
   * refresh token refreshes: an access token never reaches this rule.
   *
   * - the current token rotates: generation + 1, expiry slid past half its life;
   * - the token the last rotation replaced, within `policy.grace` of it and
   *   while its successor is unused, is an idempotent replay: the session as
   *   that rotation left it, unchanged, so the same answer is made again;
   * - any other token of an older generation is reuse (stolen, or replayed
   *   too late): the session ends (`TOKEN_REVOKED`, over), as OAuth 2.1 does.
   *
   * `replayed` says which of the first two it was. The presented token's
   * MAC was verified before: an older generation here is one we minted.
   * A user under a ban refreshes nothing (`USER_BANNED`, over: the ban ended
   * every session).
   */
  refresh(
    table: SessionTable,
    id: string,
    presented: RefreshPresented,
    policy: SessionPolicy,
    now: number,
    ban: Ban | null = null,
  ): Outcome & { replayed?: boolean } {
    const banned = bannedRefusal(ban, now)
    if (banned) return { ok: false, over: true, ...banned }
    const stored = table.get(id)
    const record = live(stored, now)
    if (!stored || !record) return refuse('SESSION_EXPIRED', true)
    const { gen, hash, next } = presented
    const state = stored.refresh
    // A session of 0.3 (no refresh state) or a generation we minted and lost: fail closed.
    if (!state || gen > record.gen) return refuse('SESSION_EXPIRED')
    if (gen === record.gen - 1 && state.prev === hash && now - record.refreshedAt < policy.grace) {
      return { ok: true, record, replayed: true }
    }
    if (gen < record.gen) {
      endSession(table, stored)
      return refuse('TOKEN_REVOKED', true)
    }
    // The current generation with another nonce: not a token of this session's chain.
    if (state.hash !== hash) return refuse('SESSION_EXPIRED')
    const endOfLife = record.createdAt + policy.maxAge
    if (now >= endOfLife) return refuse('SESSION_EXPIRED', true)
    // Sliding expiry, at most one extension per half lifetime, never past maxAge.
    const expiresAt =
      record.expiresAt - now < policy.ttl / 2
        ? Math.min(now + policy.ttl, endOfLife)
        : record.expiresAt
    const nextRecord: SessionRecord = {
      ...record,
      gen: record.gen + 1,
      refreshedAt: now,
      expiresAt,
    }
    table.put({
      ...stored,
      record: nextRecord,
      expiresAt: Math.max(stored.expiresAt, expiresAt),
      refresh: { hash: next, prev: hash },
    })
    return { ok: true, record: nextRecord, replayed: false }
  },

  /**
   * Ends one session; false when it was not live, or why `by` (the caller's
   * own session) may not: over, or replaced.
   */
  end(table: SessionTable, id: string, now: number, by?: Caller): boolean | CallerRefused {
    const refused = by && callerRefused(table, by, now)
    if (refused) return refused
    const stored = table.get(id)
    if (!stored || !live(stored, now)) return false
    endSession(table, stored)
    return true
  },

  endAll,

  /** The live sessions, newest first. */
  list(table: SessionTable, now: number): SessionSummary[] {
    return table
      .live(now)
      .flatMap((s) => (s.record ? [{ s, record: s.record }] : []))
      .sort((a, b) => b.s.createdAtMs - a.s.createdAtMs)
      .map(({ s, record }) => ({
        id: s.id,
        createdAt: record.createdAt,
        refreshedAt: record.refreshedAt,
        expiresAt: record.expiresAt,
        ...(record.device ? { device: record.device } : {}),
      }))
  },
}
