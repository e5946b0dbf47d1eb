import { deleteIdentities } from '../../session/identities'
import { sessionRecordKey } from '../../storage/keys'
import type { SealedKv } from '../../storage/sealed-kv'
import { readMeta, writeMeta } from './sql'

/**
 * The deletes a `UserSessions` object owes, done and then crossed off one by
 * one (a failure throws and the alarm retries what is left): avatars
 * (`avatar:<key>`) in the object store, identities and unionid links in KV,
 * and the sweep of `session:<uid>:` that logout-all and forgetting the user
 * ask for (whatever an eventually consistent list missed).
 */
export async function drainDeletes(
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
  for (const { key } of sql.exec<{ key: string }>('SELECT key FROM owed_deletes').toArray()) {
    if (key.startsWith('avatar:')) await objects?.delete(key.slice('avatar:'.length))
    else await deleteIdentities(kv, uid, [key])
    sql.exec('DELETE FROM owed_deletes WHERE key = ?', key)
  }
  if (readMeta(sql, 'sweep') === '1') {
    const prefix = sessionRecordKey(uid, '')
    for (const key of await kv.keys(prefix)) {
      if (!live(key.slice(prefix.length))) await kv.delete(key)
    }
    writeMeta(sql, 'sweep', null)
  }
}
