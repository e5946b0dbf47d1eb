import { sessionKeySlot } from '../../session/record'
import type { StoredSession } from '../../session/rules'

/**
 * The session_keys in a `UserSessions` object's SQLite, sealed. A login's new
 * key rides in its new session's row (`key_slot`, `session_key`), so that the
 * login writes one row, not that row and a meta row (each billed). A key set
 * without a login (`setSessionKey`) goes to meta as `key:<slot>`, and a key in
 * meta is newer than every row's of its slot: a login that puts its key in a
 * row deletes the slot's meta key. A slot's key is its meta key, else the key
 * of its newest row (by `created_ms`); deleting that row moves its key to
 * meta first ({@link deleteSessions}), so that an older session's stale key
 * never comes back.
 */
const KEY_META = 'key:'

/** Each slot's key (see the module's note). */
export function readKeys(sql: SqlStorage): Map<string, string> {
  const keys = new Map(
    sql
      .exec<{ slot: string; value: string }>(
        `SELECT key_slot AS slot, session_key AS value, MAX(created_ms)
         FROM sessions WHERE session_key IS NOT NULL GROUP BY key_slot`,
      )
      .toArray()
      .map((row) => [row.slot, row.value] as const),
  )
  const meta = sql.exec<{ key: string; value: string }>(
    "SELECT key, value FROM meta WHERE key LIKE 'key:%'",
  )
  for (const row of meta) keys.set(row.key.slice(KEY_META.length), row.value)
  return keys
}

/**
 * The keys a step's new sessions carry in their rows: by session id, each
 * changed slot's key on the step's new live session of that slot, if any,
 * and if no keyed row of the slot is as new (a Worker's clock behind
 * another's): the key of the last step must stay the slot's key.
 */
export function carriedKeys(
  sql: SqlStorage,
  before: ReadonlyMap<string, string>,
  keys: ReadonlyMap<string, string>,
  put: Iterable<StoredSession>,
): Map<string, { slot: string; sealed: string }> {
  const carried = new Map<string, { slot: string; sealed: string }>()
  for (const s of put) {
    if (!s.record) continue
    const slot = sessionKeySlot(s.record.appId, s.record.platform)
    const sealed = keys.get(slot)
    if (sealed === undefined || before.get(slot) === sealed) continue
    const exists = sql.exec('SELECT 1 FROM sessions WHERE id = ?', s.id).toArray().length > 0
    const { newest } = sql
      .exec<{ newest: number | null }>(
        'SELECT MAX(created_ms) AS newest FROM sessions WHERE key_slot = ? AND session_key IS NOT NULL',
        slot,
      )
      .one()
    if (!exists && (newest === null || newest < s.createdAtMs)) carried.set(s.id, { slot, sealed })
  }
  return carried
}

/**
 * Writes the step's keys that no new row carries to meta (one row each, none
 * when unchanged), drops the meta keys of slots a row now carries (none
 * written when there is none), and forgets the slots the step dropped.
 */
export function commitKeys(
  sql: SqlStorage,
  before: ReadonlyMap<string, string>,
  keys: ReadonlyMap<string, string>,
  carried: ReadonlySet<string>,
) {
  for (const slot of before.keys()) {
    if (keys.has(slot)) continue
    sql.exec('DELETE FROM meta WHERE key = ?', `${KEY_META}${slot}`)
    sql.exec('UPDATE sessions SET key_slot = NULL, session_key = NULL WHERE key_slot = ?', slot)
  }
  for (const [slot, sealed] of keys) {
    if (before.get(slot) === sealed) continue
    if (carried.has(slot)) sql.exec('DELETE FROM meta WHERE key = ?', `${KEY_META}${slot}`)
    else
      sql.exec(
        `INSERT INTO meta (key, value) VALUES (?, ?)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value`,
        `${KEY_META}${slot}`,
        sealed,
      )
  }
}

/**
 * Deletes the sessions `where` selects, moving first to meta the key of each
 * slot whose newest keyed row goes (unless meta has a newer one).
 */
export function deleteSessions(sql: SqlStorage, where: string, ...bindings: SqlStorageValue[]) {
  sql.exec(
    `INSERT OR IGNORE INTO meta (key, value)
     SELECT '${KEY_META}' || key_slot, session_key FROM (
       SELECT *, MAX(created_ms) FROM sessions WHERE session_key IS NOT NULL GROUP BY key_slot
     ) WHERE ${where}`,
    ...bindings,
  )
  sql.exec(`DELETE FROM sessions WHERE ${where}`, ...bindings)
}
