import type { PhoneNumber } from '../platforms/platform'
import { derivedKey } from '../storage/cipher'
import { hex } from '../util/hex'

const MAINLAND = /^1[3-9]\d{9}$/ // a mainland China mobile number without its country code
const encoder = new TextEncoder()
const keys = new Map<string, Promise<CryptoKey>>()

/**
 * A phone number as the directory hashes it: `+<country code><number>`, digits
 * only. From a platform's answer, or from what an operator typed (`+86 138…`,
 * `13800138000`, `0086…`); null when the text is not a phone number.
 */
export function normalizePhone(phone: PhoneNumber | string): string | null {
  if (typeof phone !== 'string') {
    const country = phone.countryCode.replace(/\D/g, '')
    const number = phone.purePhoneNumber.replace(/\D/g, '')
    return country && number ? `+${country}${number}` : null
  }
  const text = phone.trim().replace(/[\s()-]/g, '')
  let digits: string | undefined
  if (/^\+\d+$/.test(text)) digits = text.slice(1)
  else if (/^00\d+$/.test(text)) digits = text.slice(2)
  else if (MAINLAND.test(text)) digits = `86${text}`
  return digits && digits.length >= 7 && digits.length <= 15 ? `+${digits}` : null // E.164: at most 15
}

/**
 * The keyed hash of a normalized phone number (`normalizePhone`): HMAC-SHA256
 * under a key derived from `STORAGE_SECRET`, hex. The directory keeps it, so
 * that an operator who types the number finds the user, and a copy of the
 * directory yields no numbers (an unkeyed hash of an 11-digit number is
 * reversed by trying them all).
 *
 * @param secret `STORAGE_SECRET`
 */
export async function phoneHash(secret: string, normalized: string): Promise<string> {
  let key = keys.get(secret)
  if (!key) {
    key = derivedKey(
      secret,
      'wxa-auth phone hash v1',
      { name: 'HMAC', hash: 'SHA-256', length: 256 },
      ['sign'],
    )
    keys.set(secret, key)
  }
  const mac = await crypto.subtle.sign('HMAC', await key, encoder.encode(normalized))
  return hex(new Uint8Array(mac))
}
