import { WxaAuthError } from '../errors'
import { bytesOf } from '../util/base64url'
import { hex } from '../util/hex'
import { parseJson } from '../util/json'
import { timingSafeEqual } from '../util/timing-safe'

// The user data a mini program hands over, as WeChat, QQ and Douyin all seal it:
// AES-128-CBC with PKCS#7 padding under the session_key; key, iv and data are base64,
// the key and iv 16 bytes; and rawData signed as sha1(rawData + session_key).
// https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
const AES_BLOCK = 16 // bytes
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const HEX_SHA1 = /^[0-9a-f]{40}$/

const encoder = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Decodes canonical base64 only: the standard alphabet, padding required, no
 * whitespace, zero unused bits. A `+` turned into a space in transit fails here
 * instead of decrypting into garbage.
 */
function strictBase64(text: string): Uint8Array | null {
  if (!BASE64.test(text)) return null
  const binary = atob(text)
  if (btoa(binary) !== text) return null
  return bytesOf(binary)
}

/** The one error callers see, whatever failed; which check it was (no secret, no data) rides in `cause` for the log. */
const decryptFailed = (check: string) =>
  new WxaAuthError('DECRYPT_FAILED', undefined, { cause: new Error(check) })

export interface DecryptDataInput {
  /** `encryptedData` from the mini program, base64. */
  encryptedData: string
  /** `iv` from the mini program, base64 of 16 bytes. */
  iv: string
  /** The user's session_key as code2Session returned it (base64 of 16 bytes). */
  sessionKey: string
  /** This app's AppID: the plaintext's `watermark.appid` must equal it. */
  appId: string
}

/**
 * Decrypts the `encryptedData` a mini program receives (user info, the old
 * phone-number button, run data, share info) and checks its watermark.
 * Every failure is the same {@link WxaAuthError} `WECHAT_DECRYPT_FAILED`
 * (bad base64, iv or key length, ciphertext length, padding, UTF-8, JSON,
 * watermark), so the caller learns nothing about which check failed; the log
 * says which.
 *
 * @param input `{ encryptedData, iv, sessionKey, appId }`
 * @returns the plaintext JSON object, `watermark` included
 * @throws WxaAuthError `WECHAT_DECRYPT_FAILED` (400)
 * @example
 * ```ts
 * const profile = await decryptData({ encryptedData, iv, sessionKey, appId })
 * ```
 */
export async function decryptData(input: DecryptDataInput): Promise<Record<string, unknown>> {
  const { encryptedData, iv, sessionKey, appId } = input ?? {}
  if (typeof encryptedData !== 'string' || typeof iv !== 'string') {
    throw decryptFailed('encryptedData or iv is not a string')
  }
  if (typeof sessionKey !== 'string' || typeof appId !== 'string' || !appId) {
    throw decryptFailed('sessionKey or appId is not a string')
  }
  const key = strictBase64(sessionKey)
  if (key?.length !== AES_BLOCK) throw decryptFailed('session_key is not base64 of 16 bytes')
  const ivBytes = strictBase64(iv)
  if (ivBytes?.length !== AES_BLOCK) throw decryptFailed('iv is not base64 of 16 bytes')
  const data = strictBase64(encryptedData)
  if (!data) throw decryptFailed('encryptedData is not canonical base64')
  if (data.length === 0 || data.length % AES_BLOCK !== 0) {
    throw decryptFailed('ciphertext length is not a positive multiple of 16')
  }

  let plain: ArrayBuffer
  try {
    const aes = await crypto.subtle.importKey('raw', key, 'AES-CBC', false, ['decrypt'])
    // WebCrypto checks and strips the PKCS#7 padding, rejecting bad padding.
    plain = await crypto.subtle.decrypt({ name: 'AES-CBC', iv: ivBytes }, aes, data)
  } catch {
    throw decryptFailed('AES-CBC decryption or PKCS#7 padding failed')
  }
  // A wrong key yields valid padding about once in 256 tries: the UTF-8, JSON
  // and watermark checks are what reject it then.
  let parsed: unknown
  try {
    parsed = parseJson(strictUtf8.decode(plain))
  } catch {
    throw decryptFailed('plaintext is not UTF-8 JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw decryptFailed('plaintext is not a JSON object')
  }
  const record = parsed as Record<string, unknown>
  const watermark = record.watermark as { appid?: unknown } | null | undefined
  if (typeof watermark !== 'object' || watermark === null || watermark.appid !== appId) {
    throw decryptFailed('watermark.appid is missing or is not this app')
  }
  return record
}

export interface VerifySignatureInput {
  /** `rawData` exactly as the mini program received it. */
  rawData: string
  /** `signature` from the mini program: hex sha1. */
  signature: string
  /** The session_key, the base64 string exactly as code2Session returned it. */
  sessionKey: string
}

/**
 * Checks the `signature` of `rawData`: `hex(sha1(rawData + session_key))`
 * with the session_key as its base64 text, compared in constant time.
 * https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
 *
 * @returns whether the signature matches; false for any malformed input
 * @example
 * ```ts
 * if (!(await verifySignature({ rawData, signature, sessionKey }))) throw ...
 * ```
 */
export async function verifySignature(input: VerifySignatureInput): Promise<boolean> {
  const { rawData, signature, sessionKey } = input ?? {}
  if (typeof rawData !== 'string' || typeof sessionKey !== 'string' || !sessionKey) return false
  if (typeof signature !== 'string' || !HEX_SHA1.test(signature)) return false
  const digest = await crypto.subtle.digest('SHA-1', encoder.encode(rawData + sessionKey))
  return timingSafeEqual(hex(digest), signature)
}

/**
 * The data crypto of one app, as a platform app has it: `decrypt` checks that
 * the watermark names `appId`; `verifyRawData` checks rawData's signature.
 * The same on WeChat, QQ and Douyin.
 */
export const sealedData = (appId: string) => ({
  decrypt: (input: Omit<DecryptDataInput, 'appId'>) => decryptData({ ...input, appId }),
  verifyRawData: (input: VerifySignatureInput) => verifySignature(input),
})
