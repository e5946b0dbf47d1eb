import { base64url, bytesOf } from '../util/base64url'
import type { KeyRing } from './keys'

/**
 * A refresh token as the server reads it: whose session, which generation,
 * and its secret part. Made only by {@link mintRefreshToken}: a token whose
 * MAC does not verify under a key of the ring is never read.
 */
export interface RefreshToken {
  uid: string
  /** The session id, as the access token carries it. */
  sid: string
  /** The generation of the session this token refreshes. */
  gen: number
  /** 256 bits, base64url: random at login, derived from the one before at each refresh. */
  nonce: string
}

/** What an authority keeps of a session's refresh tokens: hashes only, never a token. */
export interface RefreshState {
  /** sha256 of the current token's nonce, base64url. */
  hash: string
  /** sha256 of the nonce the last refresh replaced: presented again within the grace, it is replayed. */
  prev?: string
}

/** What a refresh presents to the session authority: the token's generation and hashes. */
export interface RefreshPresented {
  gen: number
  /** sha256 of the presented nonce. */
  hash: string
  /** sha256 of its successor's nonce: what a rotation stores. */
  next: string
}

const encoder = new TextEncoder()
const B64 = /^[\w-]{43}$/
const GEN = /^(?:0|[1-9]\d{0,9})$/
const USER_ID = /^[\w.@-]{1,128}$/
const TOKEN = /^[\w-]{100,400}$/
/** Domain separation: a MAC of this kind is never a JWT signature (no `.`-joined base64url header). */
const MAC_PREFIX = 'wxa-auth refresh token\n'
const NEXT_PREFIX = 'wxa-auth next refresh token\n'

async function hmac(key: CryptoKey, text: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(text))))
}

/** sha256 of a nonce, base64url: what the authority stores. */
export async function hashNonce(nonce: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(nonce))))
}

/** A fresh nonce: 256 random bits. */
export const newNonce = () => base64url(crypto.getRandomValues(new Uint8Array(32)))

/**
 * The nonce of the token that replaces the one with `nonce`: an HMAC under
 * the server's newest key, so a replay within the grace is answered with the
 * same successor without storing it, and nobody without the key can compute it.
 */
export const nextNonce = (ring: KeyRing, nonce: string) =>
  hmac(ring.current.key, `${NEXT_PREFIX}${nonce}`)

/**
 * The opaque refresh token: base64url of `gen.nonce.sid.mac.uid`, the MAC
 * under the ring's newest key. It names the session (the user and the
 * session id, as the access token does) so that the refresh reaches the
 * session's authority and signs the next access token.
 */
export async function mintRefreshToken(ring: KeyRing, t: RefreshToken): Promise<string> {
  const body = `${t.gen}.${t.nonce}.${t.sid}`
  const mac = await hmac(ring.current.key, `${MAC_PREFIX}${body}.${t.uid}`)
  return base64url(encoder.encode(`${body}.${mac}.${t.uid}`))
}

/** The token's parts when it is one of ours (its MAC verifies under a key of the ring), else null. */
export async function readRefreshToken(
  ring: KeyRing,
  token: unknown,
): Promise<RefreshToken | null> {
  if (typeof token !== 'string' || !TOKEN.test(token)) return null
  let text: string
  try {
    text = atob(token.replace(/-/g, '+').replace(/_/g, '/'))
  } catch {
    return null
  }
  const [gen = '', nonce = '', sid = '', mac = '', ...rest] = text.split('.')
  const uid = rest.join('.')
  if (!GEN.test(gen) || !B64.test(nonce) || !B64.test(sid) || !B64.test(mac)) return null
  if (!USER_ID.test(uid)) return null
  const signed = encoder.encode(`${MAC_PREFIX}${gen}.${nonce}.${sid}.${uid}`)
  const signature = bytesOf(atob(mac.replace(/-/g, '+').replace(/_/g, '/')))
  for (const key of ring.byKid.values()) {
    // WebCrypto's verify compares in constant time.
    if (await crypto.subtle.verify('HMAC', key, signature, signed)) {
      return { uid, sid, gen: Number(gen), nonce }
    }
  }
  return null
}
