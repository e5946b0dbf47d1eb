import type { ProfileRecord } from '../../session/profile'
import type { Ban, SessionRecord } from '../../session/record'
import type { SessionTable, StoredSession } from '../../session/rules'
import type { StepChanges, UserSnapshot } from '../../session/transactional'
import type { RefreshState } from '../../token/refresh'
import { carriedKeys, commitKeys, deleteSessions, readKeys } from './sql-keys'

/**
 * How a `UserSessions` object without SQLite storage says so (its constructor
 * throws it; the caller turns it into `CONFIG_INVALID`): the text survives RPC.
 */
export const NOT_SQLITE =
  'The Durable Object class UserSessions needs SQLite storage: bind it with new_sqlite_classes in wrangler.toml [[migrations]], not new_classes.'

/**
 * The object's SQLite with its tables made. An object bound with `new_classes`
 * (KV storage) has none: workerd refuses the first statement ("SQL is not
 * enabled for this Durable Object class").
 */
export function sqliteOf(ctx: DurableObjectState): SqlStorage {
  try {
    const sql = ctx.storage.sql
    sql.exec(SCHEMA)
    // Objects of 0.3 have no refresh column: their sessions get one, empty (no refresh).
    const columns = sql.exec<{ name: string }>('PRAGMA table_info(sessions)').toArray()
    if (!columns.some((c) => c.name === 'refresh')) {
      sql.exec('ALTER TABLE sessions ADD COLUMN refresh TEXT')
    }
    if (!columns.some((c) => c.name === 'replica')) owedReplicaInRows(sql)
    // Objects of 0.3 keep every session_key in meta (see `sql-keys.ts`).
    if (!columns.some((c) => c.name === 'session_key')) {
      sql.exec('ALTER TABLE sessions ADD COLUMN key_slot TEXT')
      sql.exec('ALTER TABLE sessions ADD COLUMN session_key TEXT')
    }
    return sql
  } catch (cause) {
    if (/SQL is not enabled/i.test(String((cause as Error)?.message))) {
      throw new Error(NOT_SQLITE, { cause })
    }
    throw cause
  }
}

/**
 * The tables of a `UserSessions` object: the sessions (each with what the KV
 * replica holds of it and is owed, see {@link sqlTable}), meta, identities,
 * the outbox (`owed_deletes`, as earlier versions named it: objects keep
 * their tables), claims. A session's row may carry its login's session_key
 * (see `sql-keys.ts`). WITHOUT ROWID: a row is its primary key, so an
 * insert writes one row, not a row and its key's index (each billed as a row
 * written). Tables an older version made keep their shape and work the same.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  record TEXT,
  expires_at INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  refresh TEXT,
  replica INTEGER,
  key_slot TEXT,
  session_key TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS identities (key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS owed_deletes (key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS claims (id TEXT PRIMARY KEY, tag TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
`

type Row = {
  id: string
  record: string | null
  expires_at: number
  created_ms: number
  refresh?: string | null
}

const stored = (row: Row): StoredSession => ({
  id: row.id,
  record: row.record === null ? null : (JSON.parse(row.record) as SessionRecord),
  expiresAt: row.expires_at,
  createdAtMs: row.created_ms,
  ...(row.refresh ? { refresh: JSON.parse(row.refresh) as RefreshState } : {}),
})

/**
 * Objects of 0.3 and earlier kept the replica writes they owed in a table of
 * their own, and wrote every session to KV: their sessions all have a copy
 * there (0), and those the table listed are owed (1).
 */
function owedReplicaInRows(sql: SqlStorage) {
  sql.exec('ALTER TABLE sessions ADD COLUMN replica INTEGER DEFAULT 0')
  const old = sql
    .exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'replica'")
    .one().n
  if (old) {
    sql.exec('UPDATE sessions SET replica = 1 WHERE id IN (SELECT id FROM replica)')
    sql.exec('DROP TABLE replica')
  }
}

/**
 * The rules' {@link SessionTable} over the object's SQLite. The `replica`
 * column says what KV holds of a session: null, no copy (a new session is
 * copied to KV only once the edge asks for it, see {@link replicateForEdge});
 * 0, its copy as the row is; n > 0, a copy owed, the version telling a newer
 * change from one already written. A change to a session with a copy owes
 * KV the change, in the same row.
 */
export function sqlTable(sql: SqlStorage): SessionTable {
  return {
    get: (id) => {
      const row = sql.exec<Row>('SELECT * FROM sessions WHERE id = ?', id).toArray()[0]
      return row && stored(row)
    },
    put: (s) => putSession(sql, s),
    live: (now) =>
      sql
        .exec<Row>('SELECT * FROM sessions WHERE record IS NOT NULL AND expires_at > ?', now)
        .toArray()
        .map(stored)
        .filter((s) => (s.record?.expiresAt ?? 0) > now),
  }
}

/**
 * Writes session `s`, owing KV its change when KV has a copy; a new session
 * may carry its login's session_key of `slot`, sealed (see `sql-keys.ts`).
 */
function putSession(sql: SqlStorage, s: StoredSession, key?: { slot: string; sealed: string }) {
  sql.exec(
    `INSERT INTO sessions (id, record, expires_at, created_ms, refresh, replica, key_slot, session_key)
     VALUES (?, ?, ?, ?, ?, NULL, ?, ?)
     ON CONFLICT(id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at,
     refresh = excluded.refresh, replica = replica + 1`,
    s.id,
    s.record === null ? null : JSON.stringify(s.record),
    s.expiresAt,
    s.createdAtMs,
    s.refresh ? JSON.stringify(s.refresh) : null,
    key?.slot ?? null,
    key?.sealed ?? null,
  )
}

export const readMeta = (sql: SqlStorage, key: string): string | undefined =>
  sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0]?.value

/** A meta value kept as JSON, or null. */
const metaJson = <T>(sql: SqlStorage, key: string): T | null => {
  const text = readMeta(sql, key)
  return text ? (JSON.parse(text) as T) : null
}

export function writeMeta(sql: SqlStorage, key: string, value: string | null) {
  if (value === null) sql.exec('DELETE FROM meta WHERE key = ?', key)
  // An upsert: one row (a replace is a delete and an insert), none when unchanged.
  else
    sql.exec(
      `INSERT INTO meta (key, value) VALUES (?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value`,
      key,
      value,
    )
}

export const countRows = (
  sql: SqlStorage,
  table: 'sessions' | 'owed_deletes' | 'claims' | 'identities',
) => sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n

/**
 * Keeps the identity index until at least `until` (unix seconds): as long as
 * the identities it lists, which a login writes for SESSION_MAX_AGE and a
 * day, longer than any session. Moved a day further each time it moves, so
 * that logins write it at most once a day, as they write the identities.
 */
export function keepIndex(sql: SqlStorage, until: number) {
  if (until > Number(readMeta(sql, 'identities_until') ?? 0)) {
    writeMeta(sql, 'identities_until', String(until + INDEX_SLACK))
  }
}

const INDEX_SLACK = 24 * 60 * 60 // 1 day, seconds

/** Unix seconds until which the identity index is kept; 0 when it lists none. */
export const indexUntil = (sql: SqlStorage): number =>
  countRows(sql, 'identities') > 0 ? Number(readMeta(sql, 'identities_until') ?? 0) : 0

/**
 * The outbox's table, by the name earlier versions gave it: objects they
 * wrote still drain theirs.
 */
export const OUTBOX_TABLE = 'owed_deletes'

/** A delete for the outbox: `avatar:<key>` in the object store, or an identity key in KV. */
export const toOutbox = (sql: SqlStorage, key: string) =>
  void sql.exec(`INSERT OR IGNORE INTO ${OUTBOX_TABLE} (key) VALUES (?)`, key)

/** The sessions whose KV copy is owed, with the version owed. */
export const owedReplica = (sql: SqlStorage) =>
  sql
    .exec<{ id: string; version: number }>(
      'SELECT id, replica AS version FROM sessions WHERE replica > 0',
    )
    .toArray()

/** Whether work waits: replica writes, the outbox's deletes, a sweep. */
export const owesWork = (sql: SqlStorage): boolean =>
  countRows(sql, OUTBOX_TABLE) > 0 || readMeta(sql, 'sweep') === '1' || owedReplica(sql).length > 0

/** Whether an owed replica write is a delete (an ended or expired session) at `now` (seconds). */
export const replicaOwesDelete = (sql: SqlStorage, now: number): boolean =>
  sql
    .exec<{ n: number }>(
      'SELECT COUNT(*) AS n FROM sessions WHERE replica > 0 AND (record IS NULL OR expires_at <= ?)',
      Math.floor(now),
    )
    .one().n > 0

/**
 * The edge asked for session `id` and KV has no copy of it: a copy is owed
 * from now on (the version 1), unless the session is over. True when KV is
 * owed one, now or from before (a copy that failed is tried again).
 */
export function replicateForEdge(sql: SqlStorage, id: string): boolean {
  const row = sql
    .exec<{ replica: number | null; live: number }>(
      'SELECT replica, record IS NOT NULL AS live FROM sessions WHERE id = ?',
      id,
    )
    .toArray()[0]
  if (!row || (row.replica === null && !row.live)) return false
  if (row.replica !== null) return row.replica > 0
  sql.exec('UPDATE sessions SET replica = 1 WHERE id = ?', id)
  return true
}

/**
 * Crosses off the owed `version` of session `id` once KV has it: a copy
 * written is the row as it is (0); a delete confirmed leaves none (null).
 */
export function replicaWritten(sql: SqlStorage, id: string, version: number, deleted: boolean) {
  sql.exec(
    'UPDATE sessions SET replica = ? WHERE id = ? AND replica = ?',
    deleted ? null : 0,
    id,
    version,
  )
}

/** Unix seconds of the next session or claim expiry, or null. */
export const nextExpiry = (sql: SqlStorage): number | null =>
  sql
    .exec<{ at: number | null }>(
      'SELECT MIN(at) AS at FROM (SELECT MIN(expires_at) AS at FROM sessions UNION ALL SELECT MIN(expires_at) FROM claims)',
    )
    .one().at

/**
 * Drops the tombstone `id` once its KV delete of `version` is confirmed,
 * unless the session was created before `sinceMs` (a stale KV read of it
 * could be migrated again).
 */
export function dropTombstone(sql: SqlStorage, id: string, version: number, sinceMs: number) {
  deleteSessions(
    sql,
    'id = ? AND record IS NULL AND created_ms >= ? AND replica = ?',
    id,
    sinceMs,
    version,
  )
}

/**
 * A session found elsewhere (KV, from an earlier version), kept unless one of
 * that id is here; KV holds its copy (0), so that ending it deletes that.
 */
export function insertSession(sql: SqlStorage, id: string, record: SessionRecord) {
  sql.exec(
    'INSERT OR IGNORE INTO sessions (id, record, expires_at, created_ms, replica) VALUES (?, ?, ?, ?, 0)',
    id,
    JSON.stringify(record),
    record.expiresAt,
    record.createdAtMs ?? record.createdAt * 1000,
  )
}

/** The user as the object keeps it, each part read from SQLite when a step first asks. */
export function sqlSnapshot(sql: SqlStorage, table: SessionTable): UserSnapshot {
  let identities: Set<string> | undefined
  let keys: Map<string, string> | undefined
  let profile: { value: ProfileRecord | null } | undefined
  let ban: { value: Ban | null } | undefined
  return {
    table,
    get identities() {
      identities ??= new Set(
        sql
          .exec<{ key: string }>('SELECT key FROM identities')
          .toArray()
          .map((row) => row.key),
      )
      return identities
    },
    get keys() {
      keys ??= readKeys(sql)
      return keys
    },
    get profile() {
      profile ??= { value: metaJson<ProfileRecord>(sql, 'profile') }
      return profile.value
    },
    get ban() {
      ban ??= { value: metaJson<Ban>(sql, 'ban') }
      return ban.value
    },
  }
}

/** Unix seconds until which the object keeps the identity index ({@link indexUntil}) and a ban (for good without `until`). */
export function keptUntil(sql: SqlStorage): number {
  const ban = metaJson<Ban>(sql, 'ban')
  return Math.max(indexUntil(sql), ban ? (ban.until ?? Infinity) : 0)
}

/**
 * Writes back what a step changed of `before`, in the step: the sessions
 * (owed to the replica), the identity index and how long it is kept, the
 * profile, the ban, the session_keys, and the step's outbox.
 */
export function commitStep(sql: SqlStorage, before: UserSnapshot, changes: StepChanges) {
  const carried = changes.keys
    ? carriedKeys(sql, before.keys, changes.keys, changes.put.values())
    : new Map()
  for (const session of changes.put.values()) putSession(sql, session, carried.get(session.id))
  if (changes.identities) {
    for (const key of before.identities) {
      if (!changes.identities.has(key)) sql.exec('DELETE FROM identities WHERE key = ?', key)
    }
    for (const key of changes.identities) {
      if (!before.identities.has(key)) {
        sql.exec('INSERT OR IGNORE INTO identities (key) VALUES (?)', key)
      }
    }
  }
  if (changes.identitiesUntil !== undefined) keepIndex(sql, changes.identitiesUntil)
  for (const part of ['profile', 'ban'] as const) {
    const value = changes[part]
    if (value !== undefined) writeMeta(sql, part, value ? JSON.stringify(value) : null)
  }
  if (changes.keys) {
    const slots = new Set([...carried.values()].map((key) => key.slot))
    commitKeys(sql, before.keys, changes.keys, slots)
  }
  for (const key of changes.outbox) toOutbox(sql, key)
}
