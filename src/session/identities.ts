import { defaultUserId, unionUserId } from '../hooks'
import type { PlatformName } from '../platforms/index'
import { identityKey, ttlUntil, UNIONID_PREFIX, unionidKey } from '../storage/keys'
import type { SealedKv } from '../storage/sealed-kv'

/**
 * The newest identity of (platform, appid, openid), sealed under
 * `identity:<appid>:<openid>` (WeChat) or `identity:<platform>:<appid>:<openid>`.
 */
export interface IdentityRecord {
  v: 1
  uid: string
  unionid?: string
  /**
   * The session_key, in identities written by 0.2 and 0.3 before it moved to
   * the user's session authority; rewritten without it at the next login.
   * @deprecated read by `/auth/decrypt` as a fallback only
   */
  sessionKey?: string
  updatedAt: number
  /** Unix seconds; the KV expiration. */
  expiresAt: number
}

/** Where identities live: the sealed KV namespace, keyed by platform (WeChat's keys are those of 0.2). */
export interface IdentityStore {
  get(appId: string, openid: string, platform: PlatformName): Promise<IdentityRecord | null>
  put(appId: string, openid: string, record: IdentityRecord, platform: PlatformName): Promise<void>
  delete(appId: string, openid: string, platform: PlatformName): Promise<void>
  /** The user id a unionid of `platform` is linked to (`IDENTITY=unionid`), or null. */
  linked(unionid: string, platform: PlatformName): Promise<string | null>
  /** Links `unionid` (of `platform`) to `uid`, for good. */
  link(unionid: string, uid: string, now: number, platform: PlatformName): Promise<void>
  unlink(unionid: string, platform: PlatformName): Promise<void>
}

const LINK_TTL = 10 * 365 * 24 * 60 * 60 // seconds: for good, as KV counts it
/**
 * How much longer than `SESSION_MAX_AGE` an identity lives from the login
 * that wrote it; a login rewrites an unchanged identity at most this often.
 */
export const IDENTITY_SLACK = 24 * 60 * 60 // 1 day, seconds

/** Identities and unionid links in the sealed KV namespace. */
export function identityStore(kv: SealedKv): IdentityStore {
  return {
    get: async (appId, openid, platform) =>
      (await kv.get<IdentityRecord>(identityKey(appId, openid, platform)))?.value ?? null,
    async put(appId, openid, record, platform) {
      await kv.put(identityKey(appId, openid, platform), record, ttlUntil(record.expiresAt))
    },
    delete: (appId, openid, platform) => kv.delete(identityKey(appId, openid, platform)),
    linked: async (unionid, platform) =>
      (await kv.get<{ uid: string }>(unionidKey(unionid, platform)))?.value.uid ?? null,
    async link(unionid, uid, now, platform) {
      await kv.put(unionidKey(unionid, platform), { v: 1, uid, linkedAt: now }, LINK_TTL)
    },
    unlink: (unionid, platform) => kv.delete(unionidKey(unionid, platform)),
  }
}

/**
 * The id of the default user (no `findOrCreateUser` hook). With
 * `IDENTITY=openid` it is derived from (platform, appid, openid). With
 * `unionid`, a unionid keys the user across every app of the platform that
 * shares it: the first time one appears, it is linked to the user this
 * (appid, openid) already is, or to a new id derived from the unionid; later
 * logins from any app of that platform follow the link. Without a unionid the
 * openid rule applies until one appears. Nothing links across platforms.
 */
export async function defaultUserIdFor(
  {
    platform,
    appId,
    openid,
    unionid,
  }: { platform: PlatformName; appId: string; openid: string; unionid?: string },
  existing: IdentityRecord | null,
  { identity, identities }: { identity: 'openid' | 'unionid'; identities: IdentityStore },
  now: number,
): Promise<string> {
  if (identity === 'openid') return defaultUserId(appId, openid, platform)
  if (!unionid) return existing?.uid ?? defaultUserId(appId, openid, platform)
  if (existing?.unionid === unionid) return existing.uid
  const linked = await identities.linked(unionid, platform)
  if (linked) return linked
  const uid = existing?.uid ?? (await unionUserId(unionid, platform))
  await identities.link(unionid, uid, now, platform)
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

/**
 * The user an event about (platform, appid, openid) concerns, by the login's
 * rule: the user its identity names; with none left (expired), the id the
 * login derives from (platform, appid, openid) with the default user model
 * and `IDENTITY=openid`. Otherwise unknown (null): a unionid or your own
 * `findOrCreateUser` decided, and nothing recorded it.
 */
export async function eventUserId(
  { platform, appId, openid }: { platform: PlatformName; appId: string; openid: string },
  existing: IdentityRecord | null,
  { identity }: { identity: 'openid' | 'unionid' },
  ownUsers: boolean,
): Promise<string | null> {
  if (existing) return existing.uid
  return !ownUsers && identity === 'openid' ? defaultUserId(appId, openid, platform) : null
}
