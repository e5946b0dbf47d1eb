import { exceedsShape } from './limits'
import type {
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

/** Why the caller's session may not act, or undefined when it is live and of its token's generation. */
export function callerRefused(
  table: SessionTable,
  { id, gen }: Caller,
  now: number,
): CallerRefused | undefined {
  const record = live(table.get(id), now)
  // A generation ahead of the session's was minted and lost: fail closed.
  if (!record || gen > record.gen) return { refused: 'SESSION_EXPIRED' }
  if (gen < record.gen) return { refused: 'TOKEN_REVOKED' }
  return undefined
}

const live = (stored: StoredSession | undefined, now: number): SessionRecord | null =>
  stored?.record && stored.record.expiresAt > now ? stored.record : null

function endSession(table: SessionTable, stored: StoredSession) {
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

/** The session rules. Each returns the ids whose KV replica must be rewritten. */
export const rules = {
  /** A new session; the oldest live ones end when more than `maxSessions` would be live. */
  login(
    table: SessionTable,
    id: string,
    record: SessionRecord,
    policy: SessionPolicy,
    now: number,
  ) {
    table.put({ id, record, expiresAt: record.expiresAt, createdAtMs: record.createdAtMs })
    const sessions = table.live(now).sort((a, b) => b.createdAtMs - a.createdAtMs)
    const evicted = sessions.slice(policy.maxSessions)
    for (const s of evicted) endSession(table, s)
    return [id, ...evicted.map((s) => s.id)]
  },

  read: (table: SessionTable, id: string, now: number) => live(table.get(id), now),

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
    if (gen < record.gen) return refuse('TOKEN_REVOKED')
    // Only a generation we minted and then lost can be ahead: fail closed.
    if (gen > record.gen) return refuse('SESSION_EXPIRED')
    const data = applyChange(record.data, change)
    if (tooLarge(data, record.data, policy)) return refuse('SESSION_TOO_LARGE')
    const next = { ...record, data }
    table.put({ ...stored, record: next })
    return { ok: true, record: next }
  },

  /**
   * A new generation of the session. The token replaced by the last refresh,
   * within `policy.grace` of it, gets the current generation back unchanged
   * (its answer was lost, or two requests refreshed at once). Any other token
   * of an older generation is reuse (it was stolen, or replayed): the whole
   * session ends, as OAuth 2.1 does with a reused refresh token.
   */
  refresh(
    table: SessionTable,
    id: string,
    gen: number,
    change: SessionChange | null,
    policy: SessionPolicy,
    now: number,
  ): Outcome {
    const stored = table.get(id)
    const record = live(stored, now)
    if (!stored || !record) return refuse('SESSION_EXPIRED', true)
    if (gen < record.gen) {
      const justReplaced = gen === record.gen - 1 && now - record.refreshedAt < policy.grace
      if (justReplaced) return change ? refuse('TOKEN_REVOKED') : { ok: true, record }
      endSession(table, stored)
      return refuse('TOKEN_REVOKED', true)
    }
    if (gen > record.gen) return refuse('SESSION_EXPIRED')
    const endOfLife = record.createdAt + policy.maxAge
    if (now >= endOfLife) return refuse('SESSION_EXPIRED', true)
    const data = change ? applyChange(record.data, change) : record.data
    if (change && tooLarge(data, record.data, policy)) return refuse('SESSION_TOO_LARGE')
    // Sliding expiry, at most one extension per half lifetime, never past maxAge.
    const expiresAt =
      record.expiresAt - now < policy.ttl / 2
        ? Math.min(now + policy.ttl, endOfLife)
        : record.expiresAt
    const next: SessionRecord = {
      ...record,
      data,
      gen: record.gen + 1,
      refreshedAt: now,
      expiresAt,
    }
    table.put({ ...stored, record: next, expiresAt: Math.max(stored.expiresAt, expiresAt) })
    return { ok: true, record: next }
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

  /**
   * Ends every live session of the user (of one app, with `appId`); returns
   * their ids, or why `by` (the caller's own session) may not: over, or replaced.
   */
  endAll(table: SessionTable, now: number, appId?: string, by?: Caller): string[] | CallerRefused {
    const refused = by && callerRefused(table, by, now)
    if (refused) return refused
    const ended = table.live(now).filter((s) => appId === undefined || s.record?.appId === appId)
    for (const s of ended) endSession(table, s)
    return ended.map((s) => s.id)
  },

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
