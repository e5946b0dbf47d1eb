import { base64url } from '../storage/base64url'
import { eventKey, MIN_TTL } from '../storage/keys'
import type { SealedKv } from '../storage/sealed-kv'

/**
 * How long a handled push is remembered. A push's timestamp is accepted from
 * 5 minutes before to 5 minutes after our clock, a 10-minute window; its
 * marker outlives that window, so a replay inside it is caught, and covers
 * WeChat's retries (three, seconds apart).
 */
export const DEFAULT_EVENT_MARKER_TTL = 15 * 60 // 15 minutes, seconds

/**
 * The pushes already handled, so that each is acted on once. An id is a list
 * of strings (the event's fields, or the request's signed query); it is stored
 * as an HMAC keyed with the push Token, so a marker names no user.
 */
export interface EventMarkers {
  /** Whether any of `ids` of `appId` was marked. */
  seen(appId: string, ids: string[][]): Promise<boolean>
  /** Marks all of `ids` of `appId`. */
  mark(appId: string, ids: string[][]): Promise<void>
}

export interface EventMarkersOptions {
  /** The HMAC key of the ids: the push Token. */
  secret: string
  /** Seconds a marker lives (≥ 60). @default DEFAULT_EVENT_MARKER_TTL */
  ttl?: number
}

/**
 * Event markers in KV under `wx:event:<appid>:<hmac>`, sealed like every
 * other value. KV is eventually consistent: two deliveries of one push that
 * reach two locations within about a minute may both act, so the hooks
 * should be idempotent (ending sessions and deleting the identity are).
 */
export function eventMarkers(
  kv: SealedKv,
  { secret, ttl = DEFAULT_EVENT_MARKER_TTL }: EventMarkersOptions,
): EventMarkers {
  let hmac: Promise<CryptoKey> | undefined
  const digest = async (id: string[]) => {
    hmac ??= crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(`wxa-auth event marker:${secret}`),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    )
    const mac = await crypto.subtle.sign(
      'HMAC',
      await hmac,
      new TextEncoder().encode(JSON.stringify(id)),
    )
    return base64url(new Uint8Array(mac).subarray(0, 24))
  }
  const keys = (appId: string, ids: string[][]) =>
    Promise.all(ids.map(async (id) => eventKey(appId, await digest(id))))
  return {
    async seen(appId, ids) {
      const found = await Promise.all((await keys(appId, ids)).map((key) => kv.get(key)))
      return found.some((value) => value !== null)
    },
    async mark(appId, ids) {
      const at = Math.floor(Date.now() / 1000)
      await Promise.all(
        (await keys(appId, ids)).map((key) => kv.put(key, { v: 1, at }, Math.max(MIN_TTL, ttl))),
      )
    },
  }
}
