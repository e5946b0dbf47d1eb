import { WxaAuthError } from '../../errors'
import { bytesOf } from '../../util/base64url'
import { hex } from '../../util/hex'
import { timingSafeEqual } from '../../util/timing-safe'

// The crypto of WeChat's message push (消息推送), for the URL check and for
// pushes in plain, compatible and safe mode.
// https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
// https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Message_encryption_and_decryption.html

const AES_BLOCK = 16 // bytes, AES's block
const PUSH_BLOCK = 32 // bytes: WeChat pads the plaintext to multiples of 32, not 16
const RANDOM_PREFIX = 16 // bytes of random before the length
const HEX_SHA1 = /^[0-9a-f]{40}$/
const AES_KEY = /^[A-Za-z0-9+/]{43}$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

const encoder = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * WeChat's push signature: hex sha1 of the parts sorted as strings and
 * concatenated. The URL check and plain pushes sign (Token, timestamp, nonce);
 * an encrypted push's `msg_signature` adds the `Encrypt` text.
 *
 * @example
 * ```ts
 * const signature = await pushSignature(token, timestamp, nonce)
 * ```
 */
export async function pushSignature(...parts: string[]): Promise<string> {
  const text = [...parts].sort().join('')
  return hex(await crypto.subtle.digest('SHA-1', encoder.encode(text)))
}

/**
 * Whether `signature` (lowercase hex sha1, as WeChat sends it) is the push
 * signature of `parts`, compared in constant time; false for anything malformed.
 */
export async function verifyPushSignature(
  signature: string | undefined,
  ...parts: string[]
): Promise<boolean> {
  if (typeof signature !== 'string' || !HEX_SHA1.test(signature)) return false
  return timingSafeEqual(await pushSignature(...parts), signature)
}

/** The AES key of the pushes: `EncodingAESKey` decoded, and imported once. */
export interface PushKey {
  /** AES-256-CBC, non-extractable; encrypt is needed to decrypt (see {@link decryptPush}). */
  key: CryptoKey
  /** The first 16 bytes of the key, WeChat's fixed IV. */
  iv: Uint8Array<ArrayBuffer>
}

/**
 * The 32 bytes of an `EncodingAESKey`: 43 base64 characters, decoded with
 * one `=` appended. Null when it is not one. WeChat's generated keys are
 * letters and digits whose last character may carry unused bits, which
 * base64 decoding discards: they are not refused.
 */
export function encodingAesKeyBytes(value: string): Uint8Array<ArrayBuffer> | null {
  if (!AES_KEY.test(value)) return null
  const binary = atob(`${value}=`)
  return binary.length === 32 ? bytesOf(binary) : null
}

/**
 * Imports the `EncodingAESKey` for {@link decryptPush}.
 * @throws WxaAuthError `CONFIG_INVALID` naming `WECHAT_EVENT_AES_KEY`, never its value
 */
export async function importPushKey(encodingAesKey: string): Promise<PushKey> {
  const bytes = encodingAesKeyBytes(encodingAesKey)
  if (!bytes) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'WECHAT_EVENT_AES_KEY must be the 43-character EncodingAESKey of the message push settings.',
    )
  }
  const key = await crypto.subtle.importKey('raw', bytes, 'AES-CBC', false, ['encrypt', 'decrypt'])
  return { key, iv: bytes.slice(0, AES_BLOCK) }
}

/** The one error callers see; which check failed (no key, no data) rides in `cause` for the log. */
const pushRejected = (check: string) =>
  new WxaAuthError('WECHAT_EVENT_SIGNATURE_INVALID', undefined, { cause: new Error(check) })

/**
 * AES-256-CBC decryption without removing any padding: the raw plaintext.
 *
 * WebCrypto's AES-CBC always checks and strips PKCS#7 padding of 16-byte
 * blocks, and WeChat pads to 32 bytes (a pad byte may be up to 32, which
 * WebCrypto refuses). So one block is appended that decrypts to a whole block
 * of padding (sixteen 0x10): in CBC, P = D(C') XOR C_last, so
 * C' = E(0x10… XOR C_last), which is the first block of an AES-CBC encryption
 * of sixteen 0x10 with C_last as its IV. WebCrypto then strips exactly that
 * block and returns every byte of the real plaintext, whose padding is checked
 * here by WeChat's rule.
 */
async function decryptRaw({ key, iv }: PushKey, data: Uint8Array<ArrayBuffer>) {
  const last = data.slice(data.length - AES_BLOCK)
  const padBlock = new Uint8Array(AES_BLOCK).fill(AES_BLOCK)
  const crafted = await crypto.subtle.encrypt({ name: 'AES-CBC', iv: last }, key, padBlock)
  const extended = new Uint8Array(data.length + AES_BLOCK)
  extended.set(data)
  extended.set(new Uint8Array(crafted, 0, AES_BLOCK), data.length)
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-CBC', iv }, key, extended))
}

/** A decrypted push: the message (JSON or XML text) and the AppID it was sealed for. */
export interface OpenedPush {
  message: string
  appId: string
}

/**
 * Decrypts the `Encrypt` field of a push in safe or compatible mode:
 * AES-256-CBC, IV = the key's first 16 bytes, PKCS#7 padding to 32-byte
 * blocks; the plaintext is 16 random bytes, the message length (4 bytes,
 * big-endian), the message and the AppID, which must be one of `appIds`.
 * Check `msg_signature` before calling this. Every failure (base64, length,
 * padding, UTF-8, AppID) is the same error; the log names the check.
 *
 * @throws WxaAuthError `WECHAT_EVENT_SIGNATURE_INVALID` (401)
 * @example
 * ```ts
 * const { message, appId } = await decryptPush(encrypt, await importPushKey(aesKey), ['wx…'])
 * ```
 */
export async function decryptPush(
  encrypt: string,
  key: PushKey,
  appIds: Iterable<string>,
): Promise<OpenedPush> {
  if (typeof encrypt !== 'string' || !BASE64.test(encrypt)) {
    throw pushRejected('Encrypt is not base64')
  }
  const data = bytesOf(atob(encrypt))
  if (data.length < PUSH_BLOCK || data.length % AES_BLOCK !== 0) {
    throw pushRejected('ciphertext length is not a multiple of 16 of at least 32')
  }
  let plain: Uint8Array
  try {
    plain = await decryptRaw(key, data)
  } catch {
    throw pushRejected('AES-CBC decryption failed')
  }
  const pad = plain[plain.length - 1] as number
  if (pad < 1 || pad > PUSH_BLOCK || plain.subarray(plain.length - pad).some((b) => b !== pad)) {
    throw pushRejected('PKCS#7 padding (32-byte blocks) is wrong')
  }
  const body = plain.subarray(0, plain.length - pad)
  if (body.length < RANDOM_PREFIX + 4) throw pushRejected('plaintext too short')
  const length = new DataView(body.buffer, body.byteOffset + RANDOM_PREFIX, 4).getUint32(0)
  const start = RANDOM_PREFIX + 4
  if (length > body.length - start) throw pushRejected('message length runs past the plaintext')
  let message: string
  let appId: string
  try {
    message = strictUtf8.decode(body.subarray(start, start + length))
    appId = strictUtf8.decode(body.subarray(start + length))
  } catch {
    throw pushRejected('plaintext is not UTF-8')
  }
  if (!new Set(appIds).has(appId)) throw pushRejected('the AppID inside is not one of ours')
  return { message, appId }
}
