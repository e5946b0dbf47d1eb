import type { PlatformName } from '../platforms/index'

/**
 * The two stores beside the session authority (DESIGN.md, "a directory and
 * an audit log"): each has a Workers adapter (D1), a Node adapter (Redis keys
 * that work on a cluster), a memory adapter (`wxa-auth/testing`) and one
 * behaviour suite (`test/stores/`).
 */

/** One identity of a user, as the directory finds it. */
export interface DirectoryEntry {
  uid: string
  platform: PlatformName
  appId: string
  openid: string
  unionid?: string | undefined
  /** Unix seconds of the login that last wrote it. */
  updatedAt: number
}

/** What an operator searches by: exactly one key. */
export type DirectoryQuery =
  | { uid: string }
  | { openid: string; appId?: string | undefined }
  | { unionid: string }
  /** The keyed hash of a phone number (`phoneHash`), never the number. */
  | { phoneHash: string }

/** A user the directory found, with the identities it holds of them. */
export interface DirectoryUser {
  uid: string
  identities: DirectoryEntry[]
  /** Whether a phone number's keyed hash is on record (never the number or the hash). */
  phone: boolean
}

export interface Page {
  /** Opaque; from the previous page's `cursor`. */
  cursor?: string | undefined
  /** 1–100. */
  limit: number
}

/**
 * How long a deletion refuses the directory writes of logins that began
 * before it: longer than any login takes (its platform calls time out in seconds).
 */
export const DIRECTORY_TOMBSTONE_SECONDS = 10 * 60 // 10 minutes

/**
 * Users by id, openid (with app), unionid and phone. Written with the
 * identity at login; a deleted user leaves nothing in it.
 */
export interface Directory {
  /**
   * Records (or refreshes) one identity of `entry.uid`; an identity belongs
   * to one user, so it leaves any other user it was recorded for. Idempotent.
   * A store may leave an unchanged identity written less than a day before
   * `entry.updatedAt` as it is (D1 does: each row written is billed).
   *
   * @returns false, writing nothing, when the user was deleted after
   *   `entry.updatedAt` (the login began before the deletion; see `deleteUser`)
   */
  put(entry: DirectoryEntry): Promise<boolean>
  /**
   * Records the keyed hash of the user's phone number (replacing any earlier one).
   *
   * @returns false, writing nothing, when the user was deleted after `now`
   */
  putPhone(uid: string, phoneHash: string, now: number): Promise<boolean>
  /**
   * Deletes everything the directory holds of the user: identities, phone.
   * Leaves a mark for {@link DIRECTORY_TOMBSTONE_SECONDS} that refuses the
   * writes of logins that began before `now`. Idempotent.
   *
   * @param now unix seconds @default the current time
   */
  deleteUser(uid: string, now?: number): Promise<void>
  /** The user, or null when the directory holds nothing of them. */
  get(uid: string): Promise<DirectoryUser | null>
  /** The users matching `query`, ordered by uid; `cursor` while there are more. */
  find(query: DirectoryQuery, page: Page): Promise<{ users: DirectoryUser[]; cursor?: string }>
}

/** Every kind of audit record. Stable: operators filter on them. */
export const AUDIT_TYPES = [
  'login',
  'refresh',
  'refresh.reuse',
  'logout',
  'logout.all',
  'device.revoked',
  'ban',
  'unban',
  'account.deleted',
  'push',
  'profile.refused',
  'admin',
] as const
export type AuditType = (typeof AUDIT_TYPES)[number]

/**
 * One security event. No secrets, tokens, codes or session keys: `detail`
 * holds only what the type documents (platform, app, kind, device, address,
 * the session id, which is a hash of the token's, the key id of an operator).
 */
export interface AuditRecord {
  /** Unix milliseconds. */
  at: number
  type: AuditType
  /** The user concerned; absent for an event of no one user (a refused admin key). */
  uid?: string | undefined
  /** `user`, `platform:<name>`, `operator:<kid>` or `system`. */
  actor: string
  detail?: Readonly<Record<string, string | number | boolean>> | undefined
}

/** An {@link AuditRecord} as stored: with its id, in the log's order. */
export interface StoredAuditRecord extends AuditRecord {
  id: string
}

export interface AuditFilter {
  uid?: string | undefined
  type?: AuditType | undefined
  /** Unix milliseconds, inclusive. */
  since?: number | undefined
  /** Unix milliseconds, exclusive. */
  until?: number | undefined
}

/** What an audit log is made with: how long it keeps records, and its clock. */
export interface AuditSettings {
  /** Days a record is kept (`AUDIT_RETENTION_DAYS`); older ones are never returned and are purged. */
  retentionDays: number
  /** The current time, unix milliseconds (tests pass a clock). @default Date.now */
  now?: (() => number) | undefined
}

/** The append-only log of security events, kept `retentionDays` by the store itself. */
export interface AuditLog {
  append(records: readonly AuditRecord[]): Promise<void>
  /** Oldest first; `cursor` while there are more. */
  query(filter: AuditFilter, page: Page): Promise<{ records: StoredAuditRecord[]; cursor?: string }>
  /** Deletes records older than `before` (unix ms); how many. The store calls it itself too. */
  purge(before: number): Promise<number>
}
