import type { SessionRecord } from '../../session/record'
import type { SessionTable, StoredSession } from '../../session/rules'

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
    return sql
  } catch (cause) {
    if (/SQL is not enabled/i.test(String((cause as Error)?.message))) {
      throw new Error(NOT_SQLITE, { cause })
    }
    throw cause
  }
}

/** The tables of a `UserSessions` object: the sessions, what KV is owed, meta, identities, claims. */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  record TEXT,
  expires_at INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS replica (id TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS identities (key TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS owed_deletes (key TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS claims (id TEXT PRIMARY KEY, tag TEXT NOT NULL, expires_at INTEGER NOT NULL);
`

type Row = { id: string; record: string | null; expires_at: number; created_ms: number }

const stored = (row: Row): StoredSession => ({
  id: row.id,
  record: row.record === null ? null : (JSON.parse(row.record) as SessionRecord),
  expiresAt: row.expires_at,
  createdAtMs: row.created_ms,
})

/**
 * The rules' {@link SessionTable} over the object's SQLite. Every change is
 * owed to the KV replica (table `replica`); `indexed` hears of each live record.
 */
export function sqlTable(sql: SqlStorage, indexed: (record: SessionRecord) => void): SessionTable {
  return {
    get: (id) => {
      const row = sql.exec<Row>('SELECT * FROM sessions WHERE id = ?', id).toArray()[0]
      return row && stored(row)
    },
    put: (s) => {
      sql.exec(
        `INSERT INTO sessions (id, record, expires_at, created_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at`,
        s.id,
        s.record === null ? null : JSON.stringify(s.record),
        s.expiresAt,
        s.createdAtMs,
      )
      // The version tells a newer change from one already written.
      sql.exec(
        `INSERT INTO replica (id, version) VALUES (?, 1)
         ON CONFLICT(id) DO UPDATE SET version = version + 1`,
        s.id,
      )
      if (s.record) indexed(s.record)
    },
    live: (now) =>
      sql
        .exec<Row>('SELECT * FROM sessions WHERE record IS NOT NULL AND expires_at > ?', now)
        .toArray()
        .map(stored)
        .filter((s) => (s.record?.expiresAt ?? 0) > now),
  }
}

export const readMeta = (sql: SqlStorage, key: string): string | undefined =>
  sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0]?.value

export function writeMeta(sql: SqlStorage, key: string, value: string | null) {
  if (value === null) sql.exec('DELETE FROM meta WHERE key = ?', key)
  else sql.exec('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', key, value)
}

export const countRows = (
  sql: SqlStorage,
  table: 'sessions' | 'replica' | 'owed_deletes' | 'claims',
) => sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n
