import { mediaCheckKey } from '../storage/keys'
import type { SealedKv } from '../storage/sealed-kv'

/** Whose avatar a pending image check is about: the check's push names only its trace id. */
export interface MediaCheck {
  v: 1
  uid: string
  /** The avatar's object key, so that a late result for a replaced avatar changes nothing. */
  key: string
}

const MEDIA_CHECK_TTL = 24 * 60 * 60 // 1 day, seconds: WeChat answers within 30 minutes

/** The pending image checks, sealed in KV (Redis, memory) under `wx:media_check:<appid>:<trace>`. */
export interface MediaChecks {
  put(appId: string, trace: string, check: MediaCheck): Promise<void>
  get(appId: string, trace: string): Promise<MediaCheck | null>
  delete(appId: string, trace: string): Promise<void>
}

export function mediaChecks(kv: SealedKv): MediaChecks {
  return {
    async put(appId, trace, check) {
      await kv.put(mediaCheckKey(appId, trace), check, MEDIA_CHECK_TTL)
    },
    get: async (appId, trace) =>
      (await kv.get<MediaCheck>(mediaCheckKey(appId, trace)))?.value ?? null,
    delete: (appId, trace) => kv.delete(mediaCheckKey(appId, trace)),
  }
}
