import { WxaAuthError } from '../errors'
import { parseJson } from '../util/json'
import type { PlatformApp } from './platform'

/** The optional user-info fields of a login, in pairs. */
export interface UserInfoInput {
  rawData?: string | undefined
  signature?: string | undefined
  encryptedData?: string | undefined
  iv?: string | undefined
}

/** The decrypted object without the platform's watermark: what hooks and clients get. */
export function withoutWatermark(data: Record<string, unknown>): Record<string, unknown> {
  const { watermark: _watermark, ...rest } = data
  return rest
}

/**
 * Checks that the optional user-info fields of a login come in pairs, before
 * the code is spent, and returns the check to run with the session_key
 * code2Session yields: the rawData signature, then the decryption. That
 * check returns the profile (decrypted, or else the signed rawData), or
 * undefined when none was sent.
 *
 * @throws WxaAuthError `INVALID_REQUEST` (a field without its partner) at once;
 * the returned check throws `SIGNATURE_INVALID` or `DECRYPT_FAILED`
 */
export function readUserInfo({
  rawData,
  signature,
  encryptedData,
  iv,
}: UserInfoInput): (
  app: PlatformApp,
  sessionKey: string,
) => Promise<Record<string, unknown> | undefined> {
  if ((rawData === undefined) !== (signature === undefined)) {
    throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: send rawData with signature.')
  }
  if ((encryptedData === undefined) !== (iv === undefined)) {
    throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: send encryptedData with iv.')
  }
  return async function userInfo(app, sessionKey) {
    let profile: Record<string, unknown> | undefined
    if (rawData !== undefined && signature !== undefined) {
      if (!app.verifyRawData) throw new WxaAuthError('NOT_OFFERED')
      if (!(await app.verifyRawData({ rawData, signature, sessionKey }))) {
        throw new WxaAuthError('SIGNATURE_INVALID')
      }
      profile = parseObject(rawData)
      if (!profile) {
        throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: rawData is not a JSON object.')
      }
    }
    if (encryptedData !== undefined && iv !== undefined) {
      if (!app.decrypt) throw new WxaAuthError('NOT_OFFERED')
      profile = withoutWatermark(await app.decrypt({ encryptedData, iv, sessionKey }))
    }
    return profile
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = parseJson(text)
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>
    }
  } catch {}
  return undefined
}
