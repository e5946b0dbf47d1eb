import type { SessionAuthority } from '../../session/authority'
import { deleteIdentities } from '../../session/identities'
import type { StoredSession } from '../../session/rules'
import { transactionalAuthority, type UserState } from '../../session/transactional'
import type { SealedKv } from '../../storage/sealed-kv'

/**
 * The session authority in this process's memory: the same rules as the
 * Durable Object and Redis, each call one synchronous step. For tests (a
 * millisecond tier, no workerd) and a single Node process without Redis.
 *
 * @param options.identities where identities live, so that forgetting a user deletes them
 */
export function memoryAuthority({ identities }: { identities?: SealedKv } = {}): SessionAuthority {
  const users = new Map<string, { rows: Map<string, StoredSession>; identities: Set<string> }>()
  const stateOf = (uid: string): UserState => {
    let user = users.get(uid)
    if (!user) {
      user = { rows: new Map(), identities: new Set() }
      users.set(uid, user)
    }
    const { rows, identities } = user
    return {
      identities,
      table: {
        get: (id) => rows.get(id),
        put: (s) => void rows.set(s.id, s),
        live: (now) =>
          [...rows.values()].filter((s) => s.record !== null && s.record.expiresAt > now),
      },
    }
  }
  return transactionalAuthority(
    async (uid, step) => step(stateOf(uid)),
    async (uid, keys) => {
      if (identities) await deleteIdentities(identities, uid, keys)
    },
  )
}
