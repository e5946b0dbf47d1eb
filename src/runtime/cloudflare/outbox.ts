import { deleteIdentities } from '../../session/identities'
import type { SessionTable } from '../../session/rules'
import { sessionRecordKey, ttlUntil } from '../../storage/keys'
import type { SealedKv } from '../../storage/sealed-kv'
import {
  dropTombstone,
  OUTBOX_TABLE,
  owedReplica,
  readMeta,
  replicaWritten,
  writeMeta,
} from './sql'
import { deleteSessions } from './sql-keys'

/**
 * The outbox of a `UserSessions` object, its deletes done and then crossed off one by
 * one (a failure throws and the alarm retries what is left): avatars
 * (`avatar:<key>`) in the object store, identities and unionid links in KV,
 * and the sweep of `session:<uid>:` that logout-all and forgetting the user
 * ask for (whatever an eventually consistent list missed).
 */
export async function drainOutbox(
  sql: SqlStorage,
  {
    uid,
    kv,
    objects,
    live,
  }: {
    uid: string
    kv: SealedKv
    objects: R2Bucket | undefined
    /** Whether the session of this id is live in the object. */
    live: (id: string) => boolean
  },
): Promise<void> {
  for (const { key } of sql.exec<{ key: string }>(`SELECT key FROM ${OUTBOX_TABLE}`).toArray()) {
    if (key.startsWith('avatar:')) await objects?.delete(key.slice('avatar:'.length))
    else await deleteIdentities(kv, uid, [key])
    sql.exec(`DELETE FROM ${OUTBOX_TABLE} WHERE key = ?`, key)
  }
  if (readMeta(sql, 'sweep') === '1') {
    const prefix = sessionRecordKey(uid, '')
    for (const key of await kv.keys(prefix)) {
      if (!live(key.slice(prefix.length))) await kv.delete(key)
    }
    writeMeta(sql, 'sweep', null)
  }
}

/**
 * Writes what the KV replica is owed (the sessions' `replica` column), each
 * key as the session is now, until nothing is owed: one writer, so no stale write wins.
 * A confirmed delete drops the tombstone too (nothing can bring the session
 * back), as does ending a session KV never had, unless the session was
 * created before `keepBefore` (ms): a stale KV read of it could be migrated again.
 */
export async function drainReplica(
  sql: SqlStorage,
  {
    uid,
    kv,
    table,
    keepBefore,
  }: { uid: string; kv: SealedKv; table: SessionTable; keepBefore: number },
): Promise<void> {
  // An ended session KV never had a copy of: nothing to delete, nothing to wait for.
  deleteSessions(sql, 'record IS NULL AND replica IS NULL AND created_ms >= ?', keepBefore)
  for (;;) {
    const owed = owedReplica(sql)
    if (owed.length === 0) return
    for (const { id, version } of owed) {
      const record = table.get(id)?.record
      const key = sessionRecordKey(uid, id)
      const live = record && record.expiresAt > Date.now() / 1000
      if (live) {
        await kv.put(key, record, ttlUntil(record.expiresAt))
      } else {
        await kv.delete(key)
        dropTombstone(sql, id, version, keepBefore)
      }
      replicaWritten(sql, id, version, !live)
    }
  }
}
