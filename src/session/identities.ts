import { identityKey, ttlUntil } from '../storage/keys'
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
  /** Forgets the identity (and its session_key): the user withdrew authorization or left WeChat. */
  delete(appId: string, openid: string): Promise<void>
}

export function identityStore(kv: SealedKv): IdentityStore {
  return {
    get: async (appId, openid) =>
      (await kv.get<IdentityRecord>(identityKey(appId, openid)))?.value ?? null,
    async put(appId, openid, record) {
      await kv.put(identityKey(appId, openid), record, ttlUntil(record.expiresAt))
    },
    delete: (appId, openid) => kv.delete(identityKey(appId, openid)),
  }
}
