import { bytesOfBase64url } from '../util/base64url'
import { type NativeCrypto, type NativeKey, nativeCrypto } from '../util/native-crypto'
import type { KeyRing } from './keys'

/**
 * What the token fast path (src/token/jwt.ts `verifyFast`) takes of a
 * runtime: the ring's keys in its own kind, its HMAC-SHA256, and its base64url
 * decoding. The shape and claim checks are the fast path's own, the same on
 * every runtime; only these three differ.
 */
export interface Verifier<K = unknown> {
  /** The ring's keys by kid, as {@link hmac} takes them; undefined: none here. */
  keys(ring: KeyRing): ReadonlyMap<string, K> | undefined
  /**
   * Whether `signature` (43 base64url characters) is the HMAC-SHA256 of
   * `data` (the token's first two segments) under `key`, compared in time
   * that does not depend on where they differ.
   */
  hmac(key: K, data: string, signature: string): boolean | Promise<boolean>
  /**
   * The UTF-8 text of a base64url segment (`[\w-]+`, never 1 more than a
   * multiple of 4 long), or undefined where jose's strict decoder might
   * read it otherwise: then jose decides.
   */
  text(segment: string): string | undefined
}

let node: { of: NativeCrypto; verifier: Verifier<NativeKey> } | undefined

/** `node:crypto`'s synchronous HMAC and `Buffer`'s base64url: about 2 µs a token. */
export function nativeVerifier(native: NativeCrypto): Verifier<NativeKey> {
  if (node?.of !== native) {
    node = {
      of: native,
      verifier: {
        keys: (ring) => ring.nativeByKid,
        hmac: (key, data, signature) => native.verifyHmacSha256(key, data, signature),
        text(segment) {
          // Buffer decodes leniently (U+FFFD for invalid bytes) and keeps a
          // BOM, which jose's decoder drops: a U+FFFD goes to jose, and a BOM
          // fails JSON.parse and goes to jose too.
          const text = native.base64urlText(segment)
          return text.includes('\uFFFD') ? undefined : text
        },
      },
    }
  }
  return node.verifier
}

// As jose decodes a segment: invalid UTF-8 throws, a leading BOM is dropped.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
const encoder = new TextEncoder()

/**
 * WebCrypto's HMAC with the ring's imported keys (Workers): about 11 µs a
 * token in workerd, hardly more than the `crypto.subtle.verify` itself, where
 * jose's `jwtVerify` around the same call took 15 and more garbage.
 */
export const webVerifier: Verifier<CryptoKey> = {
  keys: (ring) => ring.byKid,
  hmac: (key, data, signature) =>
    crypto.subtle
      .verify('HMAC', key, bytesOfBase64url(signature), encoder.encode(data))
      // jose's answer to a verify that throws: the signature failed.
      .catch(() => false),
  text(segment) {
    try {
      return strictUtf8.decode(bytesOfBase64url(segment))
    } catch {
      return undefined
    }
  },
}

let chosen: Verifier | null | undefined

/** The runtime's verifier: node:crypto where there is one, else WebCrypto; null: jose alone. */
export function verifier(): Verifier | null {
  if (chosen !== undefined) return chosen
  const native = nativeCrypto()
  return native ? nativeVerifier(native) : webVerifier
}

/**
 * Sets what {@link verifier} answers (null: no fast path, jose decides every
 * token); undefined chooses by the runtime again. For tests that run each path
 * side by side.
 * @internal
 */
export function useVerifier(value: Verifier | null | undefined): void {
  chosen = value
}
