import { checkSecret } from '../token/keys'
import { base64url, bytesOfBase64url } from '../util/base64url'
import { BoundedMap } from '../util/bounded-map'

/** Seals values for KV: AES-256-GCM, the KV key as additional data. */
export interface Cipher {
  seal(plaintext: string, aad: string): Promise<string>
  /** The plaintext, or null when `sealed` was not sealed by this cipher for `aad`. */
  open(sealed: string, aad: string): Promise<string | null>
}

const VERSION = 'v1'
const OPENED_CACHE_SIZE = 1_000 // entries per isolate
const OPENED_CACHE_BYTES = 4 * 1024 * 1024 // UTF-16 code units (~2 bytes each) per isolate
const encoder = new TextEncoder()
const decoder = new TextDecoder()

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[\w-]*$/.test(text)) return null
  try {
    return bytesOfBase64url(text)
  } catch {
    return null
  }
}

// HKDF turns a secret of any shape into a uniform 256-bit key; the info string
// keeps each key apart from anything else derived from the same secret.
// https://www.rfc-editor.org/rfc/rfc5869
/** A 256-bit key for `algorithm` derived from `secret`, apart from every other `info`. */
export async function derivedKey(
  secret: string,
  info: string,
  algorithm: { name: 'AES-GCM'; length: 256 } | { name: 'HMAC'; hash: 'SHA-256'; length: 256 },
  usages: ('encrypt' | 'decrypt' | 'sign' | 'verify')[],
): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, [
    'deriveKey',
  ])
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: encoder.encode('wxa-auth'), info: encoder.encode(info) },
    material,
    algorithm,
    false,
    usages,
  )
}

const deriveKey = (secret: string) =>
  derivedKey(secret, 'wxa-auth kv records v1', { name: 'AES-GCM', length: 256 }, [
    'encrypt',
    'decrypt',
  ])

const ciphers = new Map<string, Cipher>()

/**
 * The cipher of `STORAGE_SECRET` in `vars` (a Worker's env, Node's
 * variables): the one place it is made, for the configuration and the
 * session objects alike.
 *
 * @throws WxaAuthError `CONFIG_INVALID` when the secret is unset, too short or not random
 */
export function storageCipher(vars: { readonly STORAGE_SECRET?: unknown }): Cipher {
  return createCipher(storageSecret(vars))
}

/**
 * `STORAGE_SECRET` in `vars`, checked: for the cipher, and for the other keys
 * derived from it (the directory's phone hash).
 *
 * @throws WxaAuthError `CONFIG_INVALID` when the secret is unset, too short or not random
 */
export function storageSecret(vars: { readonly STORAGE_SECRET?: unknown }): string {
  const value = vars.STORAGE_SECRET
  return checkSecret(
    'STORAGE_SECRET',
    typeof value === 'string' && value !== '' ? value : undefined,
  )
}

/**
 * The cipher for `secret` (STORAGE_SECRET), made once per isolate. A value is
 * `v1.<iv>.<ciphertext>` in base64url; opening a value already opened in this
 * isolate is a map lookup (same bytes, same key: same plaintext).
 *
 * @throws WxaAuthError `CONFIG_INVALID` when the secret is too short or not random
 */
export function createCipher(secret: string): Cipher {
  const hit = ciphers.get(secret)
  if (hit) return hit
  checkSecret('STORAGE_SECRET', secret)
  let key: Promise<CryptoKey> | undefined
  const opened = new BoundedMap<string, string>(OPENED_CACHE_SIZE, {
    maxBytes: OPENED_CACHE_BYTES,
    sizeOf: (plaintext, cacheKey) => plaintext.length + cacheKey.length,
  })

  const cipher: Cipher = {
    async seal(plaintext, aad) {
      key ??= deriveKey(secret)
      const iv = crypto.getRandomValues(new Uint8Array(12))
      const sealed = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: encoder.encode(aad) },
        await key,
        encoder.encode(plaintext),
      )
      return `${VERSION}.${base64url(iv)}.${base64url(new Uint8Array(sealed))}`
    },

    async open(sealed, aad) {
      const cacheKey = `${aad}\n${sealed}`
      const cached = opened.get(cacheKey)
      if (cached !== undefined) return cached
      const [version, ivText, dataText, extra] = sealed.split('.')
      const iv = fromBase64url(ivText ?? '')
      const data = fromBase64url(dataText ?? '')
      if (version !== VERSION || extra !== undefined || !iv || iv.length !== 12 || !data)
        return null
      key ??= deriveKey(secret)
      let plaintext: string
      try {
        const bytes = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv, additionalData: encoder.encode(aad) },
          await key,
          data,
        )
        plaintext = decoder.decode(bytes)
      } catch {
        return null
      }
      opened.set(cacheKey, plaintext)
      return plaintext
    },
  }
  ciphers.set(secret, cipher)
  return cipher
}
