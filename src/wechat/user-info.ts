import { WxaAuthError } from '../errors'
import { decryptData, verifySignature } from './crypto'

/** The decrypted object without WeChat's watermark: what hooks and clients get. */
export function withoutWatermark(data: Record<string, unknown>): Record<string, unknown> {
  const { watermark: _watermark, ...rest } = data
  return rest
}

/**
 * Checks that the optional user-info fields of a login come in pairs, before
 * the code is spent at WeChat, and returns the check to run with the
 * session_key code2Session yields: the rawData signature, then the decryption.
 * That check returns the profile (decrypted, or else the signed rawData), or
 * undefined when none was sent.
 *
 * @throws WxaAuthError `INVALID_REQUEST` (a field without its partner) at once;
 * the returned check throws `WECHAT_SIGNATURE_INVALID` or `WECHAT_DECRYPT_FAILED`
 * @example
 * ```ts
 * const readUserInfo = userInfoReader(body)
 * const { sessionKey } = await wechat.code2Session(body.code)
 * const userInfo = await readUserInfo(sessionKey, appId)
 * ```
 */
export function userInfoReader(body: {
  rawData?: string
  signature?: string
  encryptedData?: string
  iv?: string
}): (sessionKey: string, appId: string) => Promise<Record<string, unknown> | undefined> {
  const { rawData, signature, encryptedData, iv } = body
  if ((rawData === undefined) !== (signature === undefined)) {
    throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: send rawData with signature.')
  }
  if ((encryptedData === undefined) !== (iv === undefined)) {
    throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: send encryptedData with iv.')
  }
  return async function readUserInfo(sessionKey, appId) {
    let profile: Record<string, unknown> | undefined
    if (rawData !== undefined && signature !== undefined) {
      if (!(await verifySignature({ rawData, signature, sessionKey }))) {
        throw new WxaAuthError('WECHAT_SIGNATURE_INVALID')
      }
      profile = parseObject(rawData)
      if (!profile) {
        throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: rawData is not a JSON object.')
      }
    }
    if (encryptedData !== undefined && iv !== undefined) {
      profile = withoutWatermark(await decryptData({ encryptedData, iv, sessionKey, appId }))
    }
    return profile
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>
    }
  } catch {}
  return undefined
}
