import type { ClaimStore } from '../../storage/claims'
import { base64url } from '../../util/base64url'

/**
 * How long a claim on a push is kept. A push's timestamp is accepted from 5
 * minutes before to 5 minutes after our clock, a 10-minute window; its claim
 * outlives that window, so a replay inside it is caught, and covers WeChat's
 * retries (three, seconds apart).
 */
export const DEFAULT_PUSH_CLAIM_TTL = 15 * 60 // 15 minutes, seconds
/**
 * How long a delivery that acts on an event holds it: a delivery that finds
 * it held does not act (see {@link PushClaims.claim}). WeChat hangs up after
 * 5 seconds and retries about every 5 seconds, three times: a run that died
 * without a word (a crash, a Worker cancelled when WeChat hung up) lets a
 * later retry act; a hook still running past this may run once more.
 */
export const DEFAULT_PUSH_LEASE = 10 // seconds

const DONE = 'done'

/** A delivery's claim on an event: acted on, held by another delivery, or this delivery's to act on. */
export type EventClaim =
  | { state: 'done' }
  | { state: 'busy' }
  | {
      state: 'ours'
      /** Marks the event acted on, for the replay window. */
      done(now: number): Promise<void>
      /** Lets the event go (the run failed): WeChat's retry acts on it again. */
      release(now: number): Promise<void>
    }

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
  /**
   * Claims the event for this delivery, atomically, before anything is done:
   * `ours` (for {@link DEFAULT_PUSH_LEASE}, until `done` or `release`), `busy`
   * (another delivery acts on it now) or `done` (it was acted on).
   */
  claim(event: string[], now: number): Promise<EventClaim>
}

/**
 * Push claims in `store` under one scope per push Token.
 *
 * @param store the claim store (`durableClaims(env.USER_SESSIONS)` on Workers)
 * @param secret the push Token: the HMAC key of the ids and the scope's name
 */
export function pushClaims(
  store: ClaimStore,
  {
    secret,
    ttl = DEFAULT_PUSH_CLAIM_TTL,
    lease = DEFAULT_PUSH_LEASE,
  }: { secret: string; ttl?: number; lease?: number },
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
    async claim(event, now) {
      const [at, id] = await Promise.all([scoped(), digest(['event', ...event])])
      const run = `run:${base64url(crypto.getRandomValues(new Uint8Array(12)))}`
      const prior = await store.claim(at, id, run, lease, now)
      if (prior === DONE) return { state: 'done' }
      if (prior !== null) return { state: 'busy' }
      return {
        state: 'ours',
        done: async (when) => void (await store.swap(at, id, run, DONE, ttl, when)),
        release: async (when) => void (await store.swap(at, id, run, null, 0, when)),
      }
    },
  }
}
