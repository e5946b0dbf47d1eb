import type { ClaimStore } from '../../session/authority'
import { base64url } from '../../util/base64url'

/**
 * How long a claim on a push is kept. A push's timestamp is accepted from 5
 * minutes before to 5 minutes after our clock, a 10-minute window; its claim
 * outlives that window, so a replay inside it is caught, and covers WeChat's
 * retries (three, seconds apart).
 */
export const DEFAULT_PUSH_CLAIM_TTL = 15 * 60 // 15 minutes, seconds

/**
 * The pushes WeChat sent, claimed atomically in the deployment's claim store
 * (a Durable Object), so that a signed query carries at most one body and
 * each event is acted on once. Ids are HMACs keyed with the push Token: a
 * claim names no user.
 */
export interface PushClaims {
  /**
   * Claims the signed query for this request (its method and body): false
   * when the query was already used for another body, or for the URL check.
   * The same request again (WeChat's retry) is true.
   */
  query(signed: string[], request: string, now: number): Promise<boolean>
  /** Whether the event was already acted on. */
  handled(event: string[], now: number): Promise<boolean>
  /** Marks the event as acted on. */
  markHandled(event: string[], now: number): Promise<void>
}

/**
 * Push claims in `store` under one scope per push Token.
 *
 * @param store the claim store (`durableClaims(env.USER_SESSIONS)` on Workers)
 * @param secret the push Token: the HMAC key of the ids and the scope's name
 */
export function pushClaims(
  store: ClaimStore,
  { secret, ttl = DEFAULT_PUSH_CLAIM_TTL }: { secret: string; ttl?: number },
): PushClaims {
  let hmac: Promise<CryptoKey> | undefined
  const digest = async (parts: string[]) => {
    hmac ??= crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(`wxa-auth push claim:${secret}`),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    )
    const mac = await crypto.subtle.sign(
      'HMAC',
      await hmac,
      new TextEncoder().encode(JSON.stringify(parts)),
    )
    return base64url(new Uint8Array(mac).subarray(0, 24))
  }
  let scope: Promise<string> | undefined
  const scoped = () => (scope ??= digest(['scope']).then((s) => s.slice(0, 16)))
  return {
    async query(signed, request, now) {
      const [id, tag] = await Promise.all([digest(['query', ...signed]), digest([request])])
      const prior = await store.claim(await scoped(), id, tag, ttl, now)
      return prior === null || prior === tag
    },
    async handled(event, now) {
      return (await store.peek(await scoped(), await digest(['event', ...event]), now)) !== null
    },
    async markHandled(event, now) {
      await store.claim(await scoped(), await digest(['event', ...event]), 'done', ttl, now)
    },
  }
}
