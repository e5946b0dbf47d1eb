import type { RefreshPresented } from '../token/refresh'
import type { ProfileRecord, ProfileUpdate } from './profile'
import type {
  Ban,
  BanRefused,
  Caller,
  CallerRefused,
  Outcome,
  SessionChange,
  SessionPolicy,
  SessionRecord,
  SessionSummary,
} from './record'

/**
 * The one writer of session state, per user. Every method is one atomic step
 * of the rules in `rules.ts`; `now` is the caller's clock (unix seconds). The
 * Durable Object `UserSessions` is one implementation (`wxa-auth/cloudflare`),
 * Redis another (`wxa-auth/node`), memory a third (`wxa-auth/testing`).
 *
 * A change that fails may have failed before the authority was reached
 * (`STORAGE_UNAVAILABLE`: nothing was written) or after (`STORAGE_OUTCOME_UNKNOWN`:
 * it may have been made). Reads fail as `STORAGE_UNAVAILABLE` only.
 */
export interface SessionAuthority {
  /**
   * Creates a session; `ended` are the sessions the cap ended. With
   * `sessionKey` (sealed), it becomes the user's session_key of the record's
   * app in the same step. A user under a ban gets none (`refused`), and
   * nothing of the login is kept.
   */
  login(
    uid: string,
    id: string,
    record: SessionRecord,
    /** sha256 of the first refresh token's nonce: all the authority keeps of it. */
    refreshHash: string,
    policy: SessionPolicy,
    now: number,
    sessionKey?: string,
  ): Promise<{ ended: string[] } | BanRefused>
  /** The user's newest session_key of `slot` (see `sessionKeySlot`), sealed, or null. */
  sessionKey(uid: string, slot: string): Promise<string | null>
  /** Replaces the user's session_key of `slot` (sealed): a reset. */
  setSessionKey(uid: string, slot: string, sealed: string): Promise<void>
  /**
   * The live session, or null (ended, expired, unknown). `replicate`: the
   * edge's read replica had no copy of it; an authority that writes one
   * lazily (the Durable Object's KV) writes it now.
   */
  read(uid: string, id: string, now: number, replicate?: boolean): Promise<SessionRecord | null>
  write(
    uid: string,
    id: string,
    gen: number,
    change: SessionChange,
    policy: SessionPolicy,
    now: number,
  ): Promise<Outcome>
  /** A refresh by refresh token: rotation, idempotent replay or reuse (see `rules.refresh`). */
  refresh(
    uid: string,
    id: string,
    presented: RefreshPresented,
    policy: SessionPolicy,
    now: number,
  ): Promise<Outcome & { replayed?: boolean }>
  /**
   * Ends one session; false when it was not live; why not (`refused`) when
   * `by`, the caller's own session, is over or its token was replaced.
   */
  end(uid: string, id: string, now: number, by?: Caller): Promise<boolean | CallerRefused>
  /**
   * Ends all of the user's sessions (of one app, with `appId`); returns their
   * ids; why not (`refused`) when `by`, the caller's own session, is over or
   * its token was replaced.
   */
  endAll(uid: string, now: number, appId?: string, by?: Caller): Promise<string[] | CallerRefused>
  /**
   * Forgets the user: ends every session, deletes every identity it logged
   * in with, the session_keys, and the profile with its avatar object.
   */
  forget(uid: string, now: number): Promise<string[]>
  /** The user's profile (nickname, avatar), or null. */
  profile(uid: string, now: number): Promise<ProfileRecord | null>
  /**
   * Changes the profile in one step; an avatar it no longer uses (replaced,
   * cleared, checked risky) is deleted from the object store, retried until it is.
   * With `by` (the caller's own session), why not (`refused`) when that
   * session is over or its token was replaced, checked in the same step: a
   * request that began before the account was deleted writes nothing.
   */
  updateProfile(
    uid: string,
    update: ProfileUpdate,
    now: number,
    by?: Caller,
  ): Promise<ProfileRecord | null | CallerRefused>
  /** The live sessions, newest first. */
  list(uid: string, now: number): Promise<SessionSummary[]>
  /**
   * Bans the user (replacing any ban): every live session ends in the same
   * step, with the guarantee of {@link SessionAuthority.endAll}; logins and
   * refreshes are refused until `ban.until`, or until {@link SessionAuthority.unban}.
   * Returns the ids of the sessions it ended.
   */
  ban(uid: string, ban: Ban, now: number): Promise<string[]>
  /** Lifts the user's ban; whether one held. */
  unban(uid: string, now: number): Promise<boolean>
  /** The ban that holds at `now`, or null (none, lifted, or past its `until`). */
  banned(uid: string, now: number): Promise<Ban | null>
}

export type { ClaimStore } from '../storage/claims'
