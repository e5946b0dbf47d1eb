import { WxaAuthError } from '../../errors'
import { bytesOf } from '../../util/base64url'
import type { PhoneNumber } from '../platform'
import { rsa2Verify } from './keys'

const failed = (check: string) =>
  new WxaAuthError('DECRYPT_FAILED', undefined, { cause: new Error(check) })

/** `ALIPAY_AES_KEY`: the content key (接口内容加密方式), base64 of 16 bytes (AES-128). */
export function aesKeyBytes(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/]{22}==$/.test(text)) return null
  return bytesOf(atob(text))
}

/**
 * The number inside `my.getPhoneNumber`'s `{ response, sign }`: `sign` is
 * Alipay's RSA2 over the response's JSON text (the ciphertext in quotes),
 * checked first; then AES-128-CBC, zero IV, PKCS#5, to `{ code, msg, mobile }`.
 * https://opendocs.alipay.com/mini/api/getphonenumber (服务端获取手机号)
 */
export async function openPhone(
  input: { response: string; sign: string },
  verify: CryptoKey,
  aes: CryptoKey,
): Promise<PhoneNumber> {
  const { response, sign } = input
  // Encrypted content is signed as it stands in the JSON answer: with its quotes.
  const signed = response.startsWith('{') ? response : JSON.stringify(response)
  if (!(await rsa2Verify(verify, signed, sign))) {
    throw new WxaAuthError(
      'SIGNATURE_INVALID',
      'The phone number response is not signed by Alipay.',
    )
  }
  let plain: string
  try {
    const data = bytesOf(atob(response))
    const bytes = await crypto.subtle.decrypt(
      { name: 'AES-CBC', iv: new Uint8Array(16) },
      aes,
      data,
    )
    plain = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    throw failed('response: not AES-128-CBC under ALIPAY_AES_KEY')
  }
  let fields: { code?: unknown; mobile?: unknown; msg?: unknown }
  try {
    fields = JSON.parse(plain)
  } catch {
    throw failed('response: not JSON')
  }
  if (String(fields?.code) !== '10000') {
    throw new WxaAuthError('UPSTREAM_ERROR', undefined, {
      cause: new Error(`getPhoneNumber: code ${String(fields?.code)} ${String(fields?.msg ?? '')}`),
    })
  }
  const mobile = fields.mobile
  if (typeof mobile !== 'string' || !/^\+?\d{5,20}$/.test(mobile))
    throw failed('response: no mobile')
  // Alipay's mini programs serve mainland numbers: no country code in the answer.
  return { phoneNumber: mobile, purePhoneNumber: mobile.replace(/^\+86/, ''), countryCode: '86' }
}
