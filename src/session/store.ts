import { WxaAuthError } from '../errors'

/** KV key prefixes; the README's storage schema lists them. */
export const SESSION_PREFIX = 'session:'
export const IDENTITY_PREFIX = 'identity:'
/** KV refuses an `expirationTtl` below 60 seconds. */
export const MIN_TTL = 60

/** A session as stored under `session:<uid>:<sha256(sid)>`. */
export interface SessionRecord {
  v: 1
  uid: string
  appId: string
  openid: string
  unionid?: string
  /** Unix seconds. */
  createdAt: number
  /** Unix seconds; the record is dead afterwards even if KV still holds it. */
  expiresAt: number
  /** What handlers keep in `c.var.session`. */
  data: Record<string, unknown>
}

/** The newest WeChat identity of (appid, openid), stored under `identity:<appid>:<openid>`. */
export interface IdentityRecord {
  v: 1
  uid: string
  unionid?: string
  /** The newest session_key: every login overwrites it. */
  sessionKey: string
  updatedAt: number
}

/** Where sessions and identities live. KV is one adapter ({@link kvSessionStore}). */
export interface SessionStore {
  getSession(uid: string, sidHash: string): Promise<SessionRecord | null>
  putSession(sidHash: string, record: SessionRecord, ttl: number): Promise<void>
  deleteSession(uid: string, sidHash: string): Promise<void>
  putIdentity(appId: string, openid: string, record: IdentityRecord, ttl: number): Promise<void>
  /** The newest identity of (appid, openid), or null. */
  getIdentity(appId: string, openid: string): Promise<IdentityRecord | null>
}

export const sessionKey = (uid: string, sidHash: string) =>
  `${SESSION_PREFIX}${encodeURIComponent(uid)}:${sidHash}`
export const identityKey = (appId: string, openid: string) =>
  `${IDENTITY_PREFIX}${encodeURIComponent(appId)}:${encodeURIComponent(openid)}`

async function guard<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (cause) {
    throw new WxaAuthError('STORAGE_UNAVAILABLE', undefined, {
      cause: new Error(`KV ${what} failed`, { cause }),
    })
  }
}

/**
 * Sessions in Workers KV. Every failure of KV is `STORAGE_UNAVAILABLE` (503).
 *
 * @param kv the namespace (binding `SESSIONS` in wrangler.toml)
 */
export function kvSessionStore(kv: KVNamespace): SessionStore {
  return {
    getSession: (uid, sidHash) =>
      guard('get', () => kv.get<SessionRecord>(sessionKey(uid, sidHash), 'json')),
    putSession: (sidHash, record, ttl) =>
      guard('put', () =>
        kv.put(sessionKey(record.uid, sidHash), JSON.stringify(record), {
          expirationTtl: Math.max(MIN_TTL, Math.ceil(ttl)),
        }),
      ),
    deleteSession: (uid, sidHash) => guard('delete', () => kv.delete(sessionKey(uid, sidHash))),
    putIdentity: (appId, openid, record, ttl) =>
      guard('put', () =>
        kv.put(identityKey(appId, openid), JSON.stringify(record), {
          expirationTtl: Math.max(MIN_TTL, Math.ceil(ttl)),
        }),
      ),
    getIdentity: (appId, openid) =>
      guard('get', () => kv.get<IdentityRecord>(identityKey(appId, openid), 'json')),
  }
}
