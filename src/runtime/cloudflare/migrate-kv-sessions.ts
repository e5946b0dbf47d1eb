import type { SessionRecord } from '../../session/record'
import { sessionRecordKey } from '../../storage/keys'
import type { SealedKv } from '../../storage/sealed-kv'

// The migration of 0.1's sessions: 0.1 kept them in KV only; since 0.2 a
// user's `UserSessions` object is their store, and it takes over (migrates)
// the sessions of its user that 0.1 wrote, on its first call and, for those
// an eventually consistent list missed, when one is asked for.

/** The user's live sessions in KV, by id: what a new object migrates on its first call. */
export async function sessionsToMigrate(
  kv: SealedKv,
  uid: string,
  now: number,
): Promise<[string, SessionRecord][]> {
  const prefix = sessionRecordKey(uid, '')
  const found: [string, SessionRecord][] = []
  for (const key of await kv.keys(prefix)) {
    const record = (await kv.get<SessionRecord>(key))?.value
    if (record && record.uid === uid && record.expiresAt > now) {
      found.push([key.slice(prefix.length), record])
    }
  }
  return found
}

/**
 * The session `id` from KV when it may be migrated: live, the user's, and
 * created before `bornBefore` (an earlier version wrote it and the first,
 * eventually consistent list missed it). Anything younger is a copy the
 * object wrote and then deleted: never trusted.
 */
export async function sessionToMigrate(
  kv: SealedKv,
  uid: string,
  id: string,
  now: number,
  bornBefore: number,
): Promise<SessionRecord | null> {
  const record = (await kv.get<SessionRecord>(sessionRecordKey(uid, id)))?.value
  if (!record || record.uid !== uid || record.expiresAt <= now) return null
  return record.createdAt < bornBefore ? record : null
}
