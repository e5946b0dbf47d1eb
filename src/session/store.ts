import { BoundedMap } from '../cache'
import { WxaAuthError } from '../errors'
import type { Cipher } from './cipher'

/** KV key prefixes; the README's storage schema lists them. */
export const SESSION_PREFIX = 'session:'
export const IDENTITY_PREFIX = 'identity:'
/** KV refuses an `expirationTtl` below 60 seconds. */
export const MIN_TTL = 60

/** Coarse device hints a client sends at login, shown in the device list. */
export interface DeviceInfo {
  platform?: string
  system?: string
  model?: string
  brand?: string
  /** WeChat version. */
  version?: string
  /** The User-Agent header of the login request, truncated. */
  userAgent?: string
}

/** A session as stored under `session:<uid>:<sha256(sid)>`, sealed. */
export interface SessionRecord {
  v: 1
  uid: string
  appId: string
  openid: string
  unionid?: string
  /** Unix seconds. */
  createdAt: number
  /** Milliseconds of the wall clock at login: orders sessions made in the same second. */
  createdAtMs: number
  /** Unix seconds: the last refresh, or the login. */
  refreshedAt: number
  /** Unix seconds; the record is dead afterwards even if KV still holds it. */
  expiresAt: number
  /** Bumped by each refresh: tokens of an older generation are rejected. */
  gen: number
  device?: DeviceInfo
  /** What handlers keep in `c.var.session`. */
  data: Record<string, unknown>
}

/** What a device list shows of a session: the KV metadata, never the sealed record. */
export interface SessionSummary {
  /** The public id: the hash of the session id, as in the KV key. */
  id: string
  createdAt: number
  /** Orders sessions made in the same second. */
  createdAtMs: number
  refreshedAt: number
  expiresAt: number
  device?: DeviceInfo
}

/** The newest WeChat identity of (appid, openid), stored under `identity:<appid>:<openid>`, sealed. */
export interface IdentityRecord {
  v: 1
  uid: string
  unionid?: string
  /** The newest session_key: every login that brings another one overwrites it. */
  sessionKey: string
  updatedAt: number
  /** Unix seconds; the KV expiration. */
  expiresAt: number
}

/** Where sessions and identities live. KV is one adapter ({@link kvSessionStore}). */
export interface SessionStore {
  getSession(uid: string, sidHash: string): Promise<SessionRecord | null>
  putSession(sidHash: string, record: SessionRecord): Promise<void>
  deleteSession(uid: string, sidHash: string): Promise<void>
  /** The user's sessions, from KV metadata (a list, no reads). KV lists are eventually consistent. */
  listSessions(uid: string): Promise<SessionSummary[]>
  getIdentity(appId: string, openid: string): Promise<IdentityRecord | null>
  putIdentity(appId: string, openid: string, record: IdentityRecord): Promise<void>
}

export const sessionKey = (uid: string, sidHash: string) =>
  `${SESSION_PREFIX}${encodeURIComponent(uid)}:${sidHash}`
export const identityKey = (appId: string, openid: string) =>
  `${IDENTITY_PREFIX}${encodeURIComponent(appId)}:${encodeURIComponent(openid)}`

async function guard<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (cause) {
    // KV answers 429 past one write per second to a key: worth a quick retry by the client.
    throw new WxaAuthError('STORAGE_UNAVAILABLE', undefined, {
      cause: new Error(`KV ${what} failed`, { cause }),
      retryAfter: 1,
    })
  }
}

const ttlUntil = (expiresAt: number) => Math.max(MIN_TTL, Math.ceil(expiresAt - Date.now() / 1000))

type Metadata = { c: number; o: number; r: number; e: number; d?: DeviceInfo }

export interface KvSessionStoreOptions {
  /**
   * Seconds a session record read in this isolate is reused without asking KV
   * again; writes and deletes through this store update it at once. 0 turns
   * it off. See the README on revocation. @default 0
   */
  cacheSeconds?: number
}

const CACHED_SESSIONS = 10_000 // records per store and isolate
const CACHED_SESSION_BYTES = 8 * 1024 * 1024 // UTF-16 code units of JSON per store and isolate

/**
 * Sessions and identities in Workers KV, sealed with `cipher` (AES-GCM) so
 * that KV values alone reveal neither session data nor session_keys. Device
 * hints and times ride in plaintext KV metadata so that listing a user's
 * devices needs one list and no reads. Every KV failure is
 * `STORAGE_UNAVAILABLE` (503); a value that does not open is treated as absent.
 *
 * @param kv the namespace (binding `SESSIONS` in wrangler.toml)
 * @param cipher from `createCipher(STORAGE_SECRET)`
 */
export function kvSessionStore(
  kv: KVNamespace,
  cipher: Cipher,
  { cacheSeconds = 0 }: KvSessionStoreOptions = {},
): SessionStore {
  const cached = new BoundedMap<string, { record: SessionRecord; until: number; size: number }>(
    CACHED_SESSIONS,
    { maxBytes: CACHED_SESSION_BYTES, sizeOf: (entry) => entry.size },
  )
  const remember = (key: string, record: SessionRecord, size: number) => {
    if (cacheSeconds > 0) cached.set(key, { record, size, until: Date.now() + cacheSeconds * 1000 })
  }

  async function read<T>(key: string): Promise<T | null> {
    return (await readSized<T>(key))?.value ?? null
  }

  async function readSized<T>(key: string): Promise<{ value: T; size: number } | null> {
    const sealed = await guard('get', () => kv.get(key))
    if (sealed === null) return null
    const plaintext = await cipher.open(sealed, key)
    if (plaintext === null) {
      console.warn(`wxa-auth: KV value of ${key.slice(0, key.indexOf(':') + 1)}… does not open`)
      return null
    }
    return { value: JSON.parse(plaintext) as T, size: plaintext.length }
  }

  async function write(key: string, record: object, expiresAt: number, metadata?: Metadata) {
    const json = JSON.stringify(record)
    const sealed = await cipher.seal(json, key)
    await guard('put', () =>
      kv.put(key, sealed, {
        expirationTtl: ttlUntil(expiresAt),
        ...(metadata ? { metadata } : {}),
      }),
    )
    return json.length
  }

  return {
    async getSession(uid, sidHash) {
      const key = sessionKey(uid, sidHash)
      const hit = cacheSeconds > 0 ? cached.get(key) : undefined
      if (hit && hit.until > Date.now()) return hit.record
      const read = await readSized<SessionRecord>(key)
      if (!read) return null
      const record = Object.freeze(read.value)
      remember(key, record, read.size)
      return record
    },
    async putSession(sidHash, record) {
      const key = sessionKey(record.uid, sidHash)
      cached.delete(key)
      const size = await write(key, record, record.expiresAt, {
        c: record.createdAt,
        o: record.createdAtMs,
        r: record.refreshedAt,
        e: record.expiresAt,
        ...(record.device ? { d: record.device } : {}),
      })
      remember(key, record, size)
    },
    async deleteSession(uid, sidHash) {
      const key = sessionKey(uid, sidHash)
      cached.delete(key)
      await guard('delete', () => kv.delete(key))
    },
    async listSessions(uid) {
      const prefix = sessionKey(uid, '')
      const sessions: SessionSummary[] = []
      let cursor: string | undefined
      do {
        const page = await guard('list', () =>
          kv.list<Metadata>({ prefix, ...(cursor ? { cursor } : {}) }),
        )
        for (const { name, metadata: m } of page.keys) {
          if (!m) continue
          sessions.push({
            id: name.slice(prefix.length),
            createdAt: m.c,
            createdAtMs: m.o,
            refreshedAt: m.r,
            expiresAt: m.e,
            ...(m.d ? { device: m.d } : {}),
          })
        }
        cursor = page.list_complete ? undefined : page.cursor
      } while (cursor)
      return sessions
    },
    getIdentity: (appId, openid) => read<IdentityRecord>(identityKey(appId, openid)),
    async putIdentity(appId, openid, record) {
      await write(identityKey(appId, openid), record, record.expiresAt)
    },
  }
}
