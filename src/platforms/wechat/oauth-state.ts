import { WxaAuthError } from '../../errors'
import { derivedKey } from '../../storage/cipher'
import type { ClaimStore } from '../../storage/claims'
import { hex } from '../../util/hex'
import { timingSafeEqual } from '../../util/timing-safe'

/** Seconds a state lives from its authorize redirect to its login. */
export const STATE_TTL = 10 * 60
const SCOPE = 'wechat-oauth-state'
const USED = 'used'
const NONCE_LENGTH = 20
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
// WeChat passes back a state of at most 128 letters and digits: nonce, expiry (base 36), MAC (hex).
const STATE = /^([A-Za-z0-9]{20})([0-9a-z]{1,10})([0-9a-f]{32})$/
const encoder = new TextEncoder()

/** What a state was issued for: stored under its nonce until it is used. */
export interface StateGrant {
  appId: string
  redirectUri: string
  scope: string
}

/** Issues and checks OAuth states: signed, stored, used once. */
export interface StateIssuer {
  issue(grant: StateGrant, now: number): Promise<string>
  /** The grant of `state` for `appId`, claimed for good. @throws WxaAuthError `STATE_INVALID` */
  use(state: string | undefined, appId: string, now: number): Promise<StateGrant>
}

const macOf = async (key: Promise<CryptoKey>, grant: StateGrant, nonce: string, exp: string) =>
  hex(
    await crypto.subtle.sign(
      'HMAC',
      await key,
      encoder.encode([grant.appId, grant.redirectUri, grant.scope, nonce, exp].join('\n')),
    ),
  ).slice(0, 32)

/**
 * The HMAC key of states, derived from `STORAGE_SECRET` with HKDF under its
 * own info string: apart from the record key made of the same secret.
 */
const stateKey = (secret: string) =>
  derivedKey(
    secret,
    'wxa-auth wechat oauth state v1',
    { name: 'HMAC', hash: 'SHA-256', length: 256 },
    ['sign'],
  )

const invalid = (why: string) =>
  new WxaAuthError('STATE_INVALID', undefined, { cause: new Error(why) })

/**
 * The states of the browser flows: each signed (HMAC of the app, redirect
 * URI, scope, nonce and expiry) and stored under its nonce (the claim
 * store), then claimed once at login: a forged, expired, replayed or
 * other app's state is `STATE_INVALID`.
 */
export function stateIssuer(secret: string, claims: ClaimStore): StateIssuer {
  let key: Promise<CryptoKey> | undefined
  const keyOf = () => (key ??= stateKey(secret))
  return {
    async issue(grant, now) {
      const bytes = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH))
      const nonce = Array.from(bytes, (b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('')
      const exp = (now + STATE_TTL).toString(36)
      const held = await claims.claim(SCOPE, nonce, JSON.stringify(grant), STATE_TTL + 60, now)
      if (held !== null) throw new WxaAuthError('INTERNAL_ERROR')
      return `${nonce}${exp}${await macOf(keyOf(), grant, nonce, exp)}`
    },
    async use(state, appId, now) {
      const parts = state ? STATE.exec(state) : null
      if (!parts) throw invalid('no state, or not one of ours')
      const [, nonce = '', exp = '', mac = ''] = parts
      if (Number.parseInt(exp, 36) <= now) throw invalid('expired')
      // Reads the grant (or claims a free nonce, at once given back: it was never issued).
      const probe = `probe:${crypto.randomUUID()}`
      const held = await claims.claim(SCOPE, nonce, probe, 1, now)
      if (held === null) {
        await claims.swap(SCOPE, nonce, probe, null, 1, now)
        throw invalid('not issued, or gone')
      }
      if (held === USED) throw invalid('replayed')
      let grant: StateGrant
      try {
        grant = JSON.parse(held) as StateGrant
      } catch {
        throw invalid('unreadable')
      }
      if (grant.appId !== appId) throw invalid('for another app')
      if (!timingSafeEqual(mac, await macOf(keyOf(), grant, nonce, exp)))
        throw invalid('bad signature')
      if (!(await claims.swap(SCOPE, nonce, held, USED, STATE_TTL + 60, now))) {
        throw invalid('replayed')
      }
      return grant
    },
  }
}
