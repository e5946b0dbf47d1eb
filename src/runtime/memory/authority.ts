import type { SessionAuthority } from '../../session/authority'
import { deleteIdentities } from '../../session/identities'
import type { ProfileRecord } from '../../session/profile'
import type { Ban } from '../../session/record'
import type { StoredSession } from '../../session/rules'
import { runStep, transactionalAuthority } from '../../session/transactional'
import type { ObjectStore } from '../../storage/objects'
import type { SealedKv } from '../../storage/sealed-kv'

/**
 * The session authority in this process's memory: the same rules as the
 * Durable Object and Redis, each call one synchronous step. For tests (a
 * millisecond tier, no workerd) and a single Node process without Redis.
 *
 * @param options.identities where identities live, so that forgetting a user deletes them
 * @param options.objects where avatars live, so that a dropped one is deleted
 */
export function memoryAuthority({
  identities,
  objects,
}: {
  identities?: SealedKv
  objects?: ObjectStore
} = {}): SessionAuthority {
  const users = new Map<
    string,
    {
      rows: Map<string, StoredSession>
      identities: Set<string>
      profile: ProfileRecord | null
      keys: Map<string, string>
      ban: Ban | null
    }
  >()
  const userOf = (uid: string) => {
    let user = users.get(uid)
    if (!user) {
      user = { rows: new Map(), identities: new Set(), profile: null, keys: new Map(), ban: null }
      users.set(uid, user)
    }
    return user
  }
  return transactionalAuthority(
    async (uid, step) => {
      const user = userOf(uid)
      const { result, changes } = runStep(
        {
          ...user,
          table: {
            get: (id: string) => user.rows.get(id),
            live: (now: number) =>
              [...user.rows.values()].filter((s) => s.record !== null && s.record.expiresAt > now),
          },
        },
        step,
      )
      if (changes) {
        for (const [id, row] of changes.put) user.rows.set(id, row)
        if (changes.identities) user.identities = changes.identities
        if (changes.profile !== undefined) user.profile = changes.profile
        if (changes.keys) user.keys = changes.keys
        if (changes.ban !== undefined) user.ban = changes.ban
        for (const key of changes.outbox) await objects?.delete(key.slice('avatar:'.length))
      }
      return result
    },
    async (uid, keys) => {
      if (identities) await deleteIdentities(identities, uid, keys)
    },
  )
}
