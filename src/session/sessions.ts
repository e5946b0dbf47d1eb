import { type Logger, WxaAuthError } from '../errors'
import type { PlatformName } from '../platforms/index'
import type { Cipher } from '../storage/cipher'
import type { RefreshPresented } from '../token/refresh'
import type { SessionAuthority } from './authority'
import type { ProfileRecord, ProfileUpdate } from './profile'
import {
  type Ban,
  type CallerRefused,
  type Outcome,
  type Refusal,
  type SessionChange,
  type SessionPolicy,
  type SessionRecord,
  type SessionSummary,
  sessionKeySlot,
} from './record'
import type { SessionReplica } from './replica'

/** Whose session a token names, as it says (verified). */
export interface Presented {
  uid: string
  /** The public id: sha256(sid). */
  id: string
  /** The token's generation. */
  gen: number
}

/**
 * What a request's token opens: the live session, or why not. A replaced
 * token is refused as an ended one is; `replaced` (the session lives on)
 * lets its logout still end it, and is never told to the client.
 */
export type Opened =
  | { ok: true; record: SessionRecord }
  | { ok: false; refused: 'SESSION_EXPIRED'; replaced?: true }

/**
 * The sessions as the flows use them: each call asks the session authority
 * and keeps the read replica's isolate cache honest, written here once. In
 * `edge` consistency, reads come from the replica (the authority on a miss,
 * or when the copy is older than the token); in `strict`, and without a
 * replica, from the authority. Only "the session is over" is remembered as
 * over; a refused stale write just drops the cached copy.
 */
export interface Sessions {
  open(presented: Presented, now: number): Promise<Opened>
  /**
   * Stores a new session; the cap may end older ones. With `sessionKey` it
   * becomes the user's session_key of that app, sealed, in the same step.
   */
  create(
    uid: string,
    id: string,
    record: SessionRecord,
    refreshHash: string,
    now: number,
    sessionKey?: string,
  ): Promise<void>
  /** The user's newest session_key of an app, or null (a session of 0.2 has it in the identity). */
  sessionKey(uid: string, appId: string, platform: PlatformName): Promise<string | null>
  /** Replaces it (a reset). */
  setSessionKey(
    uid: string,
    appId: string,
    platform: PlatformName,
    sessionKey: string,
  ): Promise<void>
  write(presented: Presented, change: SessionChange, now: number): Promise<Outcome>
  /** A refresh by refresh token of session `id`: rotation, replay or reuse (see `rules.refresh`). */
  refresh(
    uid: string,
    id: string,
    presented: RefreshPresented,
    now: number,
  ): Promise<Outcome & { replayed?: boolean }>
  /** Ends a session; with `by` (the caller's session, live and current), one of the caller's others. */
  end(uid: string, id: string, now: number, by?: Presented): Promise<boolean>
  /** Ends the user's sessions (of one app); with `by`, only when the caller's is live and current. */
  endAll(uid: string, now: number, appId?: string, by?: Presented): Promise<string[]>
  forget(uid: string, now: number): Promise<string[]>
  list(uid: string, now: number): Promise<SessionSummary[]>
  profile(uid: string, now: number): Promise<ProfileRecord | null>
  /** Changes the profile; with `by` (the caller's session), only while it is live and current. */
  updateProfile(
    uid: string,
    update: ProfileUpdate,
    now: number,
    by?: Presented,
  ): Promise<ProfileRecord | null>
  /** Bans the user, ending every session at once (see `SessionAuthority.ban`); the ids ended. */
  ban(uid: string, ban: Ban, now: number): Promise<string[]>
  /** Lifts the ban; whether one held. */
  unban(uid: string, now: number): Promise<boolean>
  /** The ban that holds now, or null. */
  banned(uid: string, now: number): Promise<Ban | null>
}

/** The error of a refusal: `USER_BANNED` carries the ban's `until`. */
export const refusalError = ({
  refused,
  until,
}: {
  refused: Refusal
  until?: number | undefined
}) => new WxaAuthError(refused, undefined, { until })

export interface SessionsOptions {
  authority: SessionAuthority
  /** The edge's copy of sessions; null when the runtime has none. */
  replica: SessionReplica | null
  consistency: 'edge' | 'strict'
  policy: SessionPolicy
  log: Logger
  /** Seals the session_keys the authority keeps (as KV records are sealed). */
  cipher: Cipher
}

/** The {@link Sessions} of a configuration. */
export function sessions({
  authority,
  replica,
  consistency,
  policy,
  log,
  cipher,
}: SessionsOptions): Sessions {
  // Sealed for the user and the slot: a value moved to another user or app does not open.
  const keyAad = (uid: string, slot: string) => `session_key:${uid}:${slot}`
  const edge = consistency === 'edge' ? replica : null
  // Any token of a session expires by then: what is over is remembered that long.
  const over = (uid: string, ids: string[], now: number) => {
    for (const id of ids) replica?.ended(uid, id, now + policy.maxAge)
  }
  // The caller's own session is over or replaced: its copy here was stale.
  // The caller's copy was stale: forget it; only an ended session is remembered as over.
  const refusedCaller = (uid: string, by: Presented | undefined, { refused }: CallerRefused) => {
    if (by) replica?.forget(uid, by.id)
    throw new WxaAuthError(refused)
  }
  const settle = (uid: string, id: string, outcome: Outcome, now: number) => {
    if (outcome.ok) edge?.remember(id, outcome.record)
    else if (outcome.over) over(uid, [id], now)
    else replica?.forget(uid, id)
    return outcome
  }
  return {
    async open({ uid, id, gen }, now) {
      if (replica?.isEnded(id, now)) return { ok: false, refused: 'SESSION_EXPIRED' }
      let record = edge ? await edge.get(uid, id) : null
      // A miss is a session not yet replicated here, or one that is over; a
      // copy older than the token missed a refresh. Only the authority knows,
      // and on a miss it writes the copy the edge asked for.
      if (!record || record.gen < gen) {
        record = await authority.read(uid, id, now, edge !== null && record === null)
        if (!record) {
          over(uid, [id], now)
          return { ok: false, refused: 'SESSION_EXPIRED' }
        }
        if (record.gen < gen) {
          // We minted that generation: the authority lost what it had acknowledged. Fail closed.
          log.error(
            `wxa-auth: a token's generation (${gen}) is newer than its session authority's (${record.gen}); refused`,
          )
          replica?.forget(uid, id)
          return { ok: false, refused: 'SESSION_EXPIRED' }
        }
        edge?.remember(id, record)
      }
      if (record.uid !== uid || record.expiresAt <= now)
        return { ok: false, refused: 'SESSION_EXPIRED' }
      if (gen < record.gen) return { ok: false, refused: 'SESSION_EXPIRED', replaced: true }
      return { ok: true, record }
    },
    async create(uid, id, record, refreshHash, now, sessionKey) {
      const slot = sessionKeySlot(record.appId, record.platform)
      const sealed = sessionKey ? await cipher.seal(sessionKey, keyAad(uid, slot)) : undefined
      const done = await authority.login(uid, id, record, refreshHash, policy, now, sealed)
      if ('refused' in done) throw refusalError(done)
      over(uid, done.ended, now)
      edge?.remember(id, record)
    },
    async sessionKey(uid, appId, platform) {
      const slot = sessionKeySlot(appId, platform)
      const sealed = await authority.sessionKey(uid, slot)
      return sealed ? cipher.open(sealed, keyAad(uid, slot)) : null
    },
    async setSessionKey(uid, appId, platform, sessionKey) {
      const slot = sessionKeySlot(appId, platform)
      await authority.setSessionKey(uid, slot, await cipher.seal(sessionKey, keyAad(uid, slot)))
    },
    async write({ uid, id, gen }, change, now) {
      return settle(uid, id, await authority.write(uid, id, gen, change, policy, now), now)
    },
    async refresh(uid, id, presented, now) {
      const outcome = await authority.refresh(uid, id, presented, policy, now)
      settle(uid, id, outcome, now)
      return outcome
    },
    async end(uid, id, now, by) {
      const ended = await authority.end(uid, id, now, by && { id: by.id, gen: by.gen })
      if (typeof ended === 'object') return refusedCaller(uid, by, ended)
      // Only what this user's authority ended: an id of someone else's session stays theirs.
      if (ended) over(uid, [id], now)
      return ended
    },
    async endAll(uid, now, appId, by) {
      const ended = await authority.endAll(uid, now, appId, by && { id: by.id, gen: by.gen })
      if (!Array.isArray(ended)) return refusedCaller(uid, by, ended)
      over(uid, ended, now)
      return ended
    },
    async forget(uid, now) {
      const ended = await authority.forget(uid, now)
      over(uid, ended, now)
      return ended
    },
    list: (uid, now) => authority.list(uid, now),
    profile: (uid, now) => authority.profile(uid, now),
    async updateProfile(uid, update, now, by) {
      const profile = await authority.updateProfile(
        uid,
        update,
        now,
        by && { id: by.id, gen: by.gen },
      )
      if (profile && 'refused' in profile) return refusedCaller(uid, by, profile)
      return profile
    },
    async ban(uid, ban, now) {
      const ended = await authority.ban(uid, ban, now)
      over(uid, ended, now)
      return ended
    },
    unban: (uid, now) => authority.unban(uid, now),
    banned: (uid, now) => authority.banned(uid, now),
  }
}
