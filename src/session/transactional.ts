import { platformOf } from '../platforms/default'
import { identityKey, unionidKey } from '../storage/keys'
import type { SessionAuthority } from './authority'
import { IDENTITY_SLACK } from './identities'
import { applyProfile, avatarObject, type ProfileRecord } from './profile'
import { type SessionRecord, sessionKeySlot } from './record'
import { callerRefused, rules, type SessionTable } from './rules'

/** What an authority keeps of one user: the sessions, the keys of their identities, the profile. */
export interface UserState {
  table: SessionTable
  /** KV keys of the user's identities and unionid links (`identity:…`, `unionid:…`). */
  identities: Set<string>
  /** What the user filled in; null when nothing. A step may replace it. */
  profile: ProfileRecord | null
  /** The newest session_key of each app (`sessionKeySlot`), sealed. */
  keys: Map<string, string>
  /**
   * Unix seconds until which the identity index must be kept, set by a login:
   * as long as the identities it lists (`SESSION_MAX_AGE` + {@link IDENTITY_SLACK}),
   * which outlive the sessions. An authority whose index expires keeps it that long.
   */
  identitiesUntil?: number
}

/**
 * Runs `step` on the state of user `uid` as one atomic step and commits what
 * it changed: a lock, a transaction, or optimistic concurrency retried on
 * conflict. `step` is synchronous and may run more than once (on a retry).
 */
export type Transact = <T>(uid: string, step: (state: UserState) => T) => Promise<T>

/** The keys of the identities a session came from. */
export function identityKeysOf(record: SessionRecord): string[] {
  return [
    identityKey(record.appId, record.openid, platformOf(record.platform)),
    ...(record.unionid ? [unionidKey(record.unionid, platformOf(record.platform))] : []),
  ]
}

/**
 * A {@link SessionAuthority} that runs the session rules inside `transact`:
 * the memory store (`wxa-auth/testing`) and Redis (`wxa-auth/node`) are this,
 * over their own `Transact`. The rules stay in `rules.ts`, written once.
 *
 * @param deletes what the authority lets go of, once its step committed:
 *   `identities` (what `forget` found in the index: identities, and unionid
 *   links while they still name `uid`, see `deleteIdentities`) and `objects`
 *   (avatars, as `avatar:<key>`)
 */
export function transactionalAuthority(
  transact: Transact,
  deletes: {
    identities: (uid: string, keys: string[]) => Promise<void>
    objects: (keys: string[]) => Promise<void>
  },
): SessionAuthority {
  return {
    login: (uid, id, record, refreshHash, policy, now, sessionKey) =>
      transact(uid, (state) => {
        const { table, identities, keys } = state
        for (const key of identityKeysOf(record)) identities.add(key)
        state.identitiesUntil = now + policy.maxAge + IDENTITY_SLACK
        if (sessionKey) keys.set(sessionKeySlot(record.appId, record.platform), sessionKey)
        return rules.login(table, id, record, refreshHash, policy, now).slice(1)
      }),
    sessionKey: (uid, slot) => transact(uid, ({ keys }) => keys.get(slot) ?? null),
    setSessionKey: (uid, slot, sealed) =>
      transact(uid, ({ keys }) => {
        keys.set(slot, sealed)
      }),
    read: (uid, id, now) => transact(uid, ({ table }) => rules.read(table, id, now)),
    write: (uid, id, gen, change, policy, now) =>
      transact(uid, ({ table }) => rules.write(table, id, gen, change, policy, now)),
    refresh: (uid, id, presented, policy, now) =>
      transact(uid, ({ table }) => rules.refresh(table, id, presented, policy, now)),
    end: (uid, id, now, by) => transact(uid, ({ table }) => rules.end(table, id, now, by)),
    endAll: (uid, now, appId, by) =>
      transact(uid, ({ table }) => rules.endAll(table, now, appId, by)),
    async forget(uid, now) {
      // The identities go first: if that fails, nothing has ended and the user can try again.
      const keys = await transact(uid, ({ identities }) => [...identities])
      await deletes.identities(uid, keys)
      const [ended, dropped] = await transact(uid, (state) => {
        for (const key of keys) state.identities.delete(key)
        state.keys.clear()
        const avatar = state.profile?.avatar
        state.profile = null
        const ended = rules.endAll(state.table, now) as string[]
        return [ended, avatar ? [avatarObject(avatar)] : []] as const
      })
      await deletes.objects(dropped)
      return ended
    },
    profile: (uid) => transact(uid, ({ profile }) => profile),
    async updateProfile(uid, update, now, by) {
      const [profile, dropped] = await transact(uid, (state) => {
        const refused = by && callerRefused(state.table, by, now)
        if (refused) return [refused, [] as string[]] as const
        const next = applyProfile(state.profile, update, now)
        state.profile = next.profile
        return [next.profile, next.dropped] as const
      })
      await deletes.objects(dropped)
      return profile
    },
    list: (uid, now) => transact(uid, ({ table }) => rules.list(table, now)),
  }
}
