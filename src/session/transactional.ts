import { platformOf } from '../platforms/default'
import { identityKey, unionidKey } from '../storage/keys'
import type { SessionAuthority } from './authority'
import { IDENTITY_SLACK } from './identities'
import { applyProfile, avatarObject, type ProfileRecord } from './profile'
import { type Ban, type SessionRecord, sessionKeySlot } from './record'
import { banHolds, callerRefused, rules, type SessionTable, type StoredSession } from './rules'

/** What an authority keeps of one user: the sessions, the keys of their identities, the profile. */
export interface UserState {
  table: SessionTable
  /** KV keys of the user's identities and unionid links (`identity:…`, `unionid:…`). */
  identities: Set<string>
  /** What the user filled in; null when nothing. A step may replace it. */
  profile: ProfileRecord | null
  /** The newest session_key of each app (`sessionKeySlot`), sealed. */
  keys: Map<string, string>
  /** An operator's ban, as set (it may have lifted itself: see `banHolds`); null when none. */
  ban: Ban | null
  /**
   * Unix seconds until which the identity index must be kept, set by a login:
   * as long as the identities it lists (`SESSION_MAX_AGE` + {@link IDENTITY_SLACK}),
   * which outlive the sessions. An authority whose index expires keeps it that long.
   */
  identitiesUntil?: number
  /**
   * Objects the step let go of (`avatar:<key>`): the store deletes them once
   * the step committed, and keeps them in its outbox until they are gone.
   */
  outbox: string[]
  /**
   * Every session of the user ended (logout-all, forget), even when none was
   * live: a store with a read replica of its own also clears it of the
   * user's sessions. Not a change by itself (see {@link runStep}).
   */
  endedAll?: boolean
}

/**
 * What a store has of one user, for a step to run on. A step reads only
 * what it needs: a store may load each part when first asked (a getter).
 */
export interface UserSnapshot {
  /** The sessions; only read: a step's puts go to its changes. */
  readonly table: Pick<SessionTable, 'get' | 'live'>
  readonly identities: ReadonlySet<string>
  readonly profile: ProfileRecord | null
  readonly keys: ReadonlyMap<string, string>
  readonly ban: Ban | null
}

/**
 * What one step changed of a {@link UserSnapshot}, for its store to write
 * back in one commit. An absent part is as the snapshot had it.
 */
export interface StepChanges {
  /** The sessions the step put, by id (as they are after the step). */
  put: Map<string, StoredSession>
  /** The identity index as the step left it. */
  identities?: Set<string>
  /** The profile as the step left it (null: none). */
  profile?: ProfileRecord | null
  /** The session_keys as the step left them. */
  keys?: Map<string, string>
  /** The ban as the step left it (null: none). */
  ban?: Ban | null
  identitiesUntil?: number
  /** See {@link UserState.outbox}. */
  outbox: string[]
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) =>
  a.size === b.size && [...a].every((key) => b.has(key))
const sameMap = (a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>) =>
  a.size === b.size && [...a].every(([key, value]) => b.get(key) === value)

/**
 * Runs `step` on `snapshot` and records what it changed; `changes` is null
 * when it changed nothing (a read). The one way every store (memory, Redis,
 * the Durable Object) runs the rules: each then commits `changes` its own way.
 */
export function runStep<T>(
  snapshot: UserSnapshot,
  step: (state: UserState) => T,
): { result: T; changes: StepChanges | null; endedAll: boolean } {
  const put = new Map<string, StoredSession>()
  const base = snapshot.table
  const table: SessionTable = {
    get: (id) => put.get(id) ?? base.get(id),
    put: (session) => void put.set(session.id, session),
    live: (now) => [
      ...base.live(now).filter((s) => !put.has(s.id)),
      ...[...put.values()].filter((s) => s.record !== null && s.record.expiresAt > now),
    ],
  }
  // Each part is copied when the step first touches it.
  let identities: Set<string> | undefined
  let keys: Map<string, string> | undefined
  let profile: { value: ProfileRecord | null } | undefined
  let ban: { value: Ban | null } | undefined
  const state: UserState = {
    table,
    get identities() {
      identities ??= new Set(snapshot.identities)
      return identities
    },
    get keys() {
      keys ??= new Map(snapshot.keys)
      return keys
    },
    get profile() {
      profile ??= { value: snapshot.profile }
      return profile.value
    },
    set profile(value) {
      profile = { value }
    },
    get ban() {
      ban ??= { value: snapshot.ban }
      return ban.value
    },
    set ban(value) {
      ban = { value }
    },
    outbox: [],
  }
  const result = step(state)
  const changes: StepChanges = { put, outbox: state.outbox }
  if (identities && !sameSet(identities, snapshot.identities)) changes.identities = identities
  if (keys && !sameMap(keys, snapshot.keys)) changes.keys = keys
  if (profile && profile.value !== snapshot.profile) changes.profile = profile.value
  if (ban && ban.value !== snapshot.ban) changes.ban = ban.value
  if (state.identitiesUntil !== undefined) changes.identitiesUntil = state.identitiesUntil
  const changed =
    put.size > 0 ||
    changes.identities !== undefined ||
    changes.keys !== undefined ||
    changes.profile !== undefined ||
    changes.ban !== undefined ||
    changes.identitiesUntil !== undefined ||
    changes.outbox.length > 0
  return {
    result,
    changes: changed ? changes : null,
    // Not a change of what the store keeps: a hint for its replica.
    endedAll: state.endedAll === true,
  }
}

/**
 * Runs `step` on the state of user `uid` as one atomic step (through
 * {@link runStep}) and commits what it changed: a lock, a transaction, or
 * optimistic concurrency retried on conflict. `step` is synchronous and may
 * run more than once (on a retry).
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
 * memory (`wxa-auth/testing`), Redis (`wxa-auth/node`) and the Durable
 * Object (`wxa-auth/cloudflare`) are this, over their own `Transact`. The
 * rules stay in `rules.ts`, written once; what a step lets go of is in its
 * `outbox`, deleted by the store after its commit.
 *
 * @param deleteIdentities deletes what `forget` found in the index
 *   (identities, and unionid links while they still name `uid`, see
 *   `deleteIdentities`), or makes it owed, before the step that ends the sessions
 */
export function transactionalAuthority(
  transact: Transact,
  deleteIdentities: (uid: string, keys: string[]) => Promise<void>,
): SessionAuthority {
  return {
    login: (uid, id, record, refreshHash, policy, now, sessionKey) =>
      transact(uid, (state) => {
        const done = rules.login(state.table, id, record, refreshHash, policy, now, state.ban)
        if ('refused' in done) return done
        for (const key of identityKeysOf(record)) state.identities.add(key)
        state.identitiesUntil = now + policy.maxAge + IDENTITY_SLACK
        if (sessionKey) state.keys.set(sessionKeySlot(record.appId, record.platform), sessionKey)
        return { ended: done.ended }
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
      transact(uid, ({ table, ban }) => rules.refresh(table, id, presented, policy, now, ban)),
    end: (uid, id, now, by) => transact(uid, ({ table }) => rules.end(table, id, now, by)),
    endAll: (uid, now, appId, by) =>
      transact(uid, (state) => {
        const ended = rules.endAll(state.table, now, appId, by)
        if (Array.isArray(ended) && appId === undefined) state.endedAll = true
        return ended
      }),
    async forget(uid, now) {
      // The identities go first: if that fails, nothing has ended and the user can try again.
      const keys = await transact(uid, ({ identities }) => [...identities])
      await deleteIdentities(uid, keys)
      return transact(uid, (state) => {
        for (const key of keys) state.identities.delete(key)
        state.keys.clear()
        const avatar = state.profile?.avatar
        if (avatar) state.outbox.push(avatarObject(avatar))
        state.profile = null
        state.ban = null
        state.endedAll = true
        return rules.endAll(state.table, now)
      })
    },
    ban: (uid, ban, now) =>
      transact(uid, (state) => {
        state.ban = ban
        state.endedAll = true
        return rules.endAll(state.table, now)
      }),
    unban: (uid, now) =>
      transact(uid, (state) => {
        const held = banHolds(state.ban, now) !== null
        if (state.ban) state.ban = null
        return held
      }),
    banned: (uid, now) => transact(uid, ({ ban }) => banHolds(ban, now)),
    profile: (uid) => transact(uid, ({ profile }) => profile),
    updateProfile: (uid, update, now, by) =>
      transact(uid, (state) => {
        const refused = by && callerRefused(state.table, by, now)
        if (refused) return refused
        const next = applyProfile(state.profile, update, now)
        state.profile = next.profile
        state.outbox.push(...next.dropped)
        return next.profile
      }),
    list: (uid, now) => transact(uid, ({ table }) => rules.list(table, now)),
  }
}
