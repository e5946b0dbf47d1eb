import { platformOf } from '../platforms/default'
import type { PlatformName } from '../platforms/index'

/** Coarse device hints a client sends at login, shown in the device list. */
export interface DeviceInfo {
  platform?: string
  system?: string
  model?: string
  brand?: string
  /** WeChat version. */
  version?: string
  /** The User-Agent header of the login request, cut to fit. */
  userAgent?: string
  /** How the session was opened, when not in a mini program: `oa`, `web` or `app` (WeChat). */
  door?: string
}

/** A live session: the user object's row, and its sealed KV replica `session:<uid>:<id>`. */
export interface SessionRecord {
  v: 1
  uid: string
  /** The app's platform; absent in records of 0.2 (all WeChat). */
  platform?: PlatformName
  appId: string
  openid: string
  unionid?: string
  /** Unix seconds. */
  createdAt: number
  /** Milliseconds of the wall clock at login: orders sessions made in the same second. */
  createdAtMs: number
  /** Unix seconds: the last refresh, or the login. */
  refreshedAt: number
  /** Unix seconds; the session is over then. */
  expiresAt: number
  /** Bumped by each refresh: tokens of an older generation are rejected. */
  gen: number
  device?: DeviceInfo
  /** The claims `userToClaims` gave at login: every access token of the session carries them. */
  claims?: Record<string, unknown>
  /** What handlers keep in `c.var.session`. */
  data: Record<string, unknown>
}

/** What the device list shows of a session. */
export interface SessionSummary {
  /** The public id: sha256(sid), base64url, as in the KV key. */
  id: string
  createdAt: number
  refreshedAt: number
  expiresAt: number
  device?: DeviceInfo
}

/**
 * A change to session data, as a request's handlers made it: the keys set
 * (pairs, so that `__proto__` stays a key) and the keys deleted.
 */
export interface SessionChange {
  set: [string, unknown][]
  delete: string[]
}

/** The rules' numbers, from the app's configuration. */
export interface SessionPolicy {
  /** Seconds a session lives from login or from a refresh past half of it. */
  ttl: number
  /** Seconds from login after which no refresh extends it. */
  maxAge: number
  /** The most session data may weigh, as UTF-8 JSON. */
  maxBytes: number
  /** Live sessions per user; a login past it ends the oldest. */
  maxSessions: number
  /**
   * Seconds after a refresh during which the refresh token it replaced, while
   * its successor is unused, gets that refresh's answer again (a lost answer
   * retried, two refreshes at once) instead of ending the session as reuse. 0 = none.
   */
  grace: number
}

/**
 * Who asks for a change to other sessions (logout everywhere, a device's
 * revocation): the caller's own session, which must be live and current,
 * checked in the same step. A dead or replaced token cannot end anything else.
 */
export interface Caller {
  id: string
  gen: number
}

/**
 * Where a user's newest session_key of one app is kept by the session
 * authority: `<platform>:<appid>`. The platform rotates it at a login, for
 * the user, not per device. `platform` as a record holds it: absent in 0.2's.
 */
export const sessionKeySlot = (appId: string, platform: PlatformName | undefined) =>
  `${platformOf(platform)}:${appId}`

/**
 * Why a caller's session may not act for the user (logout everywhere, a
 * device's revocation): it is over, or its token was replaced by a refresh
 * (told apart from an ended session to nobody).
 */
export type CallerRefused = { refused: 'SESSION_EXPIRED' }

/**
 * Why the session authority refused a change: each is the error the client
 * gets. `TOKEN_REVOKED`: a replaced refresh token was reused, the session ended.
 */
export type Refusal = 'SESSION_EXPIRED' | 'TOKEN_REVOKED' | 'SESSION_TOO_LARGE' | 'USER_BANNED'

/**
 * An operator's ban of a user, kept by the user's session authority with the
 * sessions: while it holds (no `until`, or `until` still ahead) no login and
 * no refresh of the user succeeds. It lifts itself at `until`.
 */
export interface Ban {
  /** Why, as the operator wrote it (1–200 characters). */
  reason: string
  /** Unix seconds: the ban lifts itself then; absent: until an operator lifts it. */
  until?: number
  /** Unix seconds: when it was set. */
  at: number
  /** Who set it: `operator:<kid>`. */
  by: string
}

/** Why a login or a refresh of a banned user was refused: `until` when the ban ends by itself. */
export type BanRefused = { refused: 'USER_BANNED'; until?: number }

/**
 * The authority's answer to a change: the session as it now is, or why not.
 * `over` says the session has ended (it never comes back); a refused stale
 * write or an oversized change says nothing about the session's life.
 */
export type Outcome =
  | { ok: true; record: SessionRecord }
  | { ok: false; refused: Refusal; over: boolean; until?: number }
