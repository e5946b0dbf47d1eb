import { decodeCursor, encodeCursor, pageLimit } from '../../operators/cursor'
import {
  type AuditLog,
  type AuditRecord,
  type AuditSettings,
  DIRECTORY_TOMBSTONE_SECONDS,
  type Directory,
  type DirectoryEntry,
  type DirectoryUser,
  type StoredAuditRecord,
} from '../../operators/ports'
import { retention } from '../../operators/retention'
import type { PlatformName } from '../../platforms/index'

/**
 * The tables of the directory and the audit log in D1 (binding `DB`), made on
 * first use in each isolate (`CREATE … IF NOT EXISTS`) and also shipped as
 * `migrations/0001_operators.sql` for `wrangler d1 migrations apply`. The
 * storage page of the docs lists them.
 */
/** The audit types the type index holds: all but the two that make most of the log. */
const SPARSE_TYPES = "type NOT IN ('login', 'refresh')"

export const D1_SCHEMA = [
  // One row per identity (openid, app, platform): an identity belongs to one user. Keyed by
  // openid first, so that a search by openid (with its app or not) needs no index of its own:
  // each index is one more row written per insert.
  `CREATE TABLE IF NOT EXISTS wxa_directory (
  openid TEXT NOT NULL,
  app_id TEXT NOT NULL,
  platform TEXT NOT NULL,
  uid TEXT NOT NULL,
  unionid TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (openid, app_id, platform)
) WITHOUT ROWID`,
  'CREATE INDEX IF NOT EXISTS wxa_directory_uid ON wxa_directory (uid)',
  'CREATE INDEX IF NOT EXISTS wxa_directory_unionid ON wxa_directory (unionid) WHERE unionid IS NOT NULL',
  // The keyed hash of a user's phone number (HMAC-SHA256 under STORAGE_SECRET), never the number.
  `CREATE TABLE IF NOT EXISTS wxa_phones (
  uid TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID`,
  'CREATE INDEX IF NOT EXISTS wxa_phones_hash ON wxa_phones (hash)',
  // Users deleted in the last minutes: a login that began before refuses to write them back.
  `CREATE TABLE IF NOT EXISTS wxa_directory_gone (
  uid TEXT PRIMARY KEY,
  at INTEGER NOT NULL
) WITHOUT ROWID`,
  // Kept in time order by its key (at, id): no AUTOINCREMENT counter and no index of `at`.
  // Logins and refreshes, most of the log, are found by a scan in time order; only the other
  // types are indexed by type. A login's record writes two rows (the row, its uid entry).
  `CREATE TABLE IF NOT EXISTS wxa_audit (
  at INTEGER NOT NULL,
  id INTEGER NOT NULL,
  type TEXT NOT NULL,
  uid TEXT,
  actor TEXT NOT NULL,
  detail TEXT,
  PRIMARY KEY (at, id)
) WITHOUT ROWID`,
  'CREATE INDEX IF NOT EXISTS wxa_audit_uid_at ON wxa_audit (uid, at)',
  `CREATE INDEX IF NOT EXISTS wxa_audit_type_at ON wxa_audit (type, at) WHERE ${SPARSE_TYPES}`,
] as const

const REWRITE_AFTER = 24 * 60 * 60 // seconds: an unchanged identity's updated_at moves at most daily
const PURGE_BATCH = 5_000 // rows per DELETE: D1 bounds a statement's time, so a long backlog goes in steps
const PURGE_STEPS = 20 // DELETEs per purge at most; the rest waits for the next one

/** The schema, once per database object (per isolate); a failure is tried again on the next call. */
const made = new WeakMap<D1Database, Promise<void>>()
function schema(db: D1Database): Promise<void> {
  let ready = made.get(db)
  if (!ready) {
    ready = db.batch(D1_SCHEMA.map((sql) => db.prepare(sql))).then(() => {})
    ready.catch(() => made.delete(db))
    made.set(db, ready)
  }
  return ready
}

interface DirectoryRow {
  platform: string
  app_id: string
  openid: string
  uid: string
  unionid: string | null
  updated_at: number
}

const entryOf = (row: DirectoryRow): DirectoryEntry => ({
  uid: row.uid,
  platform: row.platform as PlatformName,
  appId: row.app_id,
  openid: row.openid,
  ...(row.unionid !== null ? { unionid: row.unionid } : {}),
  updatedAt: row.updated_at,
})

/**
 * The directory in D1: a row per identity, a row per phone hash, indexed by
 * uid, openid (with app), unionid and hash; a user's rows go in one batch
 * (a transaction), with a mark that refuses, for
 * {@link DIRECTORY_TOMBSTONE_SECONDS}, the writes of logins that began before.
 *
 * @param db the D1 binding (`DB`)
 */
export function d1Directory(db: D1Database): Directory {
  /** The users `uids` (at most 100: D1 binds 100 parameters), as the directory holds them. */
  async function users(uids: string[]): Promise<DirectoryUser[]> {
    if (!uids.length) return []
    const marks = uids.map(() => '?').join(', ')
    const [identities, phones] = await db.batch<DirectoryRow | { uid: string }>([
      db
        .prepare(
          `SELECT * FROM wxa_directory WHERE uid IN (${marks}) ORDER BY platform, app_id, openid`,
        )
        .bind(...uids),
      db.prepare(`SELECT uid FROM wxa_phones WHERE uid IN (${marks})`).bind(...uids),
    ])
    const withPhone = new Set((phones?.results ?? []).map((row) => row.uid))
    const byUid = new Map<string, DirectoryEntry[]>()
    for (const row of (identities?.results ?? []) as DirectoryRow[]) {
      const list = byUid.get(row.uid) ?? []
      list.push(entryOf(row))
      byUid.set(row.uid, list)
    }
    return uids
      .filter((uid) => byUid.has(uid) || withPhone.has(uid))
      .map((uid) => ({ uid, identities: byUid.get(uid) ?? [], phone: withPhone.has(uid) }))
  }
  const notGone = 'NOT EXISTS (SELECT 1 FROM wxa_directory_gone WHERE uid = ?1 AND at > ?2)'
  return {
    async put(entry) {
      await schema(db)
      // An unchanged identity written less than a day ago is left as it is (a
      // returning login writes no row); whether the user was deleted meanwhile
      // is read in the same batch, a transaction.
      const [, check] = await db.batch([
        db
          .prepare(
            `INSERT INTO wxa_directory (uid, platform, app_id, openid, unionid, updated_at)
SELECT ?1, ?3, ?4, ?5, ?6, ?2 WHERE ${notGone}
ON CONFLICT (openid, app_id, platform) DO UPDATE SET
  uid = excluded.uid, unionid = excluded.unionid, updated_at = excluded.updated_at
WHERE uid IS NOT excluded.uid OR unionid IS NOT excluded.unionid
  OR updated_at <= excluded.updated_at - ${REWRITE_AFTER}`,
          )
          .bind(
            entry.uid,
            entry.updatedAt,
            entry.platform,
            entry.appId,
            entry.openid,
            entry.unionid ?? null,
          ),
        db.prepare(`SELECT ${notGone} AS kept`).bind(entry.uid, entry.updatedAt),
      ])
      return (check?.results[0] as { kept?: number } | undefined)?.kept === 1
    },
    async putPhone(uid, phoneHash, now) {
      await schema(db)
      const { meta } = await db
        .prepare(
          `INSERT INTO wxa_phones (uid, hash, updated_at) SELECT ?1, ?3, ?2 WHERE ${notGone}
ON CONFLICT (uid) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`,
        )
        .bind(uid, now, phoneHash)
        .run()
      return meta.changes > 0
    },
    async deleteUser(uid, now = Math.floor(Date.now() / 1000)) {
      await schema(db)
      await db.batch([
        db.prepare('DELETE FROM wxa_directory WHERE uid = ?').bind(uid),
        db.prepare('DELETE FROM wxa_phones WHERE uid = ?').bind(uid),
        db
          .prepare(
            'INSERT INTO wxa_directory_gone (uid, at) VALUES (?1, ?2) ON CONFLICT (uid) DO UPDATE SET at = max(at, excluded.at)',
          )
          .bind(uid, now),
        // The marks live minutes: the table stays as small as the deletions of that long.
        db
          .prepare('DELETE FROM wxa_directory_gone WHERE at < ?')
          .bind(now - DIRECTORY_TOMBSTONE_SECONDS),
      ])
    },
    async get(uid) {
      await schema(db)
      return (await users([uid]))[0] ?? null
    },
    async find(query, page) {
      const limit = pageLimit(page.limit)
      const [after] = decodeCursor(page.cursor, ['string'] as const) ?? ['']
      await schema(db)
      // One indexed lookup per key; the phone hash and a user with a phone only are in wxa_phones.
      const [sql, ...params]: [string, ...string[]] =
        'uid' in query
          ? [
              'SELECT uid FROM wxa_directory WHERE uid = ?3 UNION SELECT uid FROM wxa_phones WHERE uid = ?3',
              query.uid,
            ]
          : 'phoneHash' in query
            ? ['SELECT uid FROM wxa_phones WHERE hash = ?3', query.phoneHash]
            : 'unionid' in query
              ? ['SELECT uid FROM wxa_directory WHERE unionid = ?3', query.unionid]
              : query.appId !== undefined
                ? [
                    'SELECT uid FROM wxa_directory WHERE openid = ?3 AND app_id = ?4',
                    query.openid,
                    query.appId,
                  ]
                : ['SELECT uid FROM wxa_directory WHERE openid = ?3', query.openid]
      const statement = db
        .prepare(`SELECT DISTINCT uid FROM (${sql}) WHERE uid > ?1 ORDER BY uid LIMIT ?2`)
        .bind(after, limit + 1, ...params)
      const { results } = await statement.all<{ uid: string }>()
      const uids = results.map((row) => row.uid)
      const more = uids.length > limit
      const shown = uids.slice(0, limit)
      return {
        users: await users(shown),
        ...(more ? { cursor: encodeCursor([shown.at(-1) as string]) } : {}),
      }
    },
  }
}

interface AuditRow {
  id: number
  at: number
  type: string
  uid: string | null
  actor: string
  detail: string | null
}

// A record's id: this isolate's random base plus a count, so that records of
// one millisecond keep the order this isolate wrote them in, and ids of other
// isolates clash with no real chance (the key is `at` and the id together).
let lastId = Math.floor(Math.random() * 2 ** 52)
const recordId = (): number => ++lastId

const recordOf = (row: AuditRow): StoredAuditRecord => ({
  id: String(row.id),
  at: row.at,
  type: row.type as AuditRecord['type'],
  ...(row.uid !== null ? { uid: row.uid } : {}),
  actor: row.actor,
  ...(row.detail !== null ? { detail: JSON.parse(row.detail) } : {}),
})

/**
 * The audit log in D1: one row per record, kept in (at, id) order and
 * indexed by (uid, at) and, but for logins and refreshes, (type, at); read oldest first. Records past retention are never returned, and
 * are deleted by the log itself: at most once an hour per isolate, after a
 * write (and by `purge`, e.g. from a Worker's `scheduled` handler).
 *
 * @param db the D1 binding (`DB`)
 */
export function d1Audit(db: D1Database, settings: AuditSettings): AuditLog {
  const kept = retention(settings)
  const log: AuditLog = {
    async append(records) {
      if (!records.length) return
      await schema(db)
      const insert = db.prepare(
        'INSERT INTO wxa_audit (at, id, type, uid, actor, detail) VALUES (?, ?, ?, ?, ?, ?)',
      )
      await db.batch(
        records.map((r) =>
          insert.bind(
            r.at,
            recordId(),
            r.type,
            r.uid ?? null,
            r.actor,
            r.detail ? JSON.stringify(r.detail) : null,
          ),
        ),
      )
      // Written: a purge that fails now is tried again an hour on, and loses no record.
      if (kept.due()) await log.purge(kept.cutoff()).catch(() => {})
    },
    async query(filter, page) {
      const limit = pageLimit(page.limit)
      const position = decodeCursor(page.cursor, ['number', 'number'] as const)
      await schema(db)
      const where = ['at >= ?']
      const params: (string | number)[] = [Math.max(kept.cutoff(), filter.since ?? 0)]
      if (filter.until !== undefined) {
        where.push('at < ?')
        params.push(filter.until)
      }
      if (filter.uid !== undefined) {
        where.push('uid = ?')
        params.push(filter.uid)
      }
      if (filter.type !== undefined) {
        where.push('type = ?')
        params.push(filter.type)
        // The index's own condition, word for word, lets SQLite use it.
        if (filter.type !== 'login' && filter.type !== 'refresh') where.push(SPARSE_TYPES)
      }
      if (position) {
        where.push('(at, id) > (?, ?)')
        params.push(...position)
      }
      const { results } = await db
        .prepare(`SELECT * FROM wxa_audit WHERE ${where.join(' AND ')} ORDER BY at, id LIMIT ?`)
        .bind(...params, limit + 1)
        .all<AuditRow>()
      const more = results.length > limit
      const shown = results.slice(0, limit)
      const last = shown.at(-1)
      return {
        records: shown.map(recordOf),
        ...(more && last ? { cursor: encodeCursor([last.at, last.id]) } : {}),
      }
    },
    async purge(before) {
      await schema(db)
      let deleted = 0
      for (let step = 0; step < PURGE_STEPS; step++) {
        const { meta } = await db
          .prepare(
            'DELETE FROM wxa_audit WHERE (at, id) IN (SELECT at, id FROM wxa_audit WHERE at < ? ORDER BY at LIMIT ?)',
          )
          .bind(before, PURGE_BATCH)
          .run()
        deleted += meta.changes
        if (meta.changes < PURGE_BATCH) break
      }
      return deleted
    },
  }
  return log
}
