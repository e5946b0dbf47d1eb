import { defaultUserId, unionUserId } from '../hooks'
import { identityKey, ttlUntil, UNIONID_PREFIX, unionidKey } from '../storage/keys'
import type { SealedKv } from '../storage/sealed-kv'

/** The newest WeChat identity of (appid, openid), stored under `identity:<appid>:<openid>`, sealed. */
export interface IdentityRecord {
  v: 1
  uid: string
  unionid?: string
  /** The newest session_key: every login that brings another one overwrites it. Never leaves the server. */
  sessionKey: string
  updatedAt: number
  /** Unix seconds; the KV expiration. */
  expiresAt: number
}

/** Where identities live: the sealed KV namespace. */
export interface IdentityStore {
  get(appId: string, openid: string): Promise<IdentityRecord | null>
  put(appId: string, openid: string, record: IdentityRecord): Promise<void>
  delete(appId: string, openid: string): Promise<void>
  /** The user id a unionid is linked to (`IDENTITY=unionid`), or null. */
  linked(unionid: string): Promise<string | null>
  /** Links `unionid` to `uid`, for good. */
  link(unionid: string, uid: string, now: number): Promise<void>
  unlink(unionid: string): Promise<void>
}

const LINK_TTL = 10 * 365 * 24 * 60 * 60 // seconds: for good, as KV counts it

/** Identities and unionid links in the sealed KV namespace. */
export function identityStore(kv: SealedKv): IdentityStore {
  return {
    get: async (appId, openid) =>
      (await kv.get<IdentityRecord>(identityKey(appId, openid)))?.value ?? null,
    async put(appId, openid, record) {
      await kv.put(identityKey(appId, openid), record, ttlUntil(record.expiresAt))
    },
    delete: (appId, openid) => kv.delete(identityKey(appId, openid)),
    linked: async (unionid) =>
      (await kv.get<{ uid: string }>(unionidKey(unionid)))?.value.uid ?? null,
    async link(unionid, uid, now) {
      await kv.put(unionidKey(unionid), { v: 1, uid, linkedAt: now }, LINK_TTL)
    },
    unlink: (unionid) => kv.delete(unionidKey(unionid)),
  }
}

/**
 * The id of the default user (no `findOrCreateUser` hook). With
 * `IDENTITY=openid` it is derived from (appid, openid). With `unionid`, a
 * unionid keys the user across every app that shares it: the first time one
 * appears, it is linked to the user this (appid, openid) already is, or to a
 * new id derived from the unionid; later logins from any app follow the link.
 * Without a unionid the openid rule applies until one appears.
 */
export async function defaultUserIdFor(
  { appId, openid, unionid }: { appId: string; openid: string; unionid?: string },
  existing: IdentityRecord | null,
  { identity, identities }: { identity: 'openid' | 'unionid'; identities: IdentityStore },
  now: number,
): Promise<string> {
  if (identity === 'openid') return defaultUserId(appId, openid)
  if (!unionid) return existing?.uid ?? defaultUserId(appId, openid)
  if (existing?.unionid === unionid) return existing.uid
  const linked = await identities.linked(unionid)
  if (linked) return linked
  const uid = existing?.uid ?? (await unionUserId(unionid))
  await identities.link(unionid, uid, now)
  return uid
}

/**
 * Deletes a forgotten user's identities (`identity:…` keys) and unionid
 * links (`unionid:…`, only while the link still names `uid`: another user may
 * have taken the unionid since).
 */
export async function deleteIdentities(kv: SealedKv, uid: string, keys: string[]): Promise<void> {
  for (const key of keys) {
    if (key.startsWith(UNIONID_PREFIX)) {
      const link = await kv.get<{ uid?: string }>(key)
      if (link?.value.uid !== uid) continue
    }
    await kv.delete(key)
  }
}
