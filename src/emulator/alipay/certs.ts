import {
  BIT_STRING,
  encode,
  encodeOid,
  INTEGER,
  NULL,
  SEQUENCE,
  SET,
  SHA256_WITH_RSA,
} from '../../platforms/alipay/der'
import { md5Hex } from '../../platforms/alipay/md5'

// The emulator's own little CA, made per run, for Alipay's certificate mode:
// a root, the app's certificate and Alipay's, each DER written here by hand.

const UTF8 = 0x0c
const PRINTABLE = 0x13
const UTC_TIME = 0x17
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'

/** A distinguished name, in the order written in the certificate (C first). */
export type Dn = [oid: string, short: string, value: string][]

const name = (dn: Dn) =>
  encode(
    SEQUENCE,
    ...dn.map(([oid, short, value]) =>
      encode(
        SET,
        encode(
          SEQUENCE,
          encodeOid(oid),
          encode(short === 'C' ? PRINTABLE : UTF8, new TextEncoder().encode(value)),
        ),
      ),
    ),
  )

/** The name as Alipay's SN hashes it: the last RDN first, joined by commas. */
export const dnText = (dn: Dn) =>
  [...dn]
    .reverse()
    .map(([, short, value]) => `${short}=${value}`)
    .join(',')

const utcTime = (ms: number) =>
  encode(
    UTC_TIME,
    new TextEncoder().encode(`${new Date(ms).toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`),
  )

const serialBytes = (serial: bigint) => {
  const hex = serial.toString(16)
  const bytes = (hex.length % 2 ? `0${hex}` : hex)
    .match(/../g)
    ?.map((h) => Number.parseInt(h, 16)) ?? [0]
  return new Uint8Array((bytes[0] as number) & 0x80 ? [0, ...bytes] : bytes)
}

/** A certificate of `spki` for `subject`, signed by `issuerKey` as `issuer`, and its SN as Alipay computes it. */
export async function issue({
  serial,
  issuer,
  subject,
  spki,
  issuerKey,
  algorithm = SHA256_WITH_RSA,
}: {
  serial: bigint
  issuer: Dn
  subject: Dn
  spki: Uint8Array
  issuerKey: CryptoKey
  algorithm?: string
}): Promise<{ pem: string; sn: string }> {
  const algorithmId =
    algorithm === SHA256_WITH_RSA
      ? encode(SEQUENCE, encodeOid(algorithm), encode(NULL))
      : encode(SEQUENCE, encodeOid(algorithm))
  const now = Date.now()
  const tbs = encode(
    SEQUENCE,
    encode(0xa0, encode(INTEGER, new Uint8Array([2]))),
    encode(INTEGER, serialBytes(serial)),
    algorithmId,
    name(issuer),
    encode(SEQUENCE, utcTime(now - 86_400_000), utcTime(now + 365 * 86_400_000)),
    name(subject),
    spki,
  )
  // A certificate of another algorithm (Alipay's root file has an SM2 one) is
  // only there to be left out of the root SN: its signature is not checked.
  const signature =
    algorithm === SHA256_WITH_RSA
      ? new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', issuerKey, tbs))
      : crypto.getRandomValues(new Uint8Array(64))
  const der = encode(SEQUENCE, tbs, algorithmId, encode(BIT_STRING, new Uint8Array([0]), signature))
  let binary = ''
  for (const byte of der) binary += String.fromCharCode(byte)
  const lines = btoa(binary)
    .match(/.{1,64}/g)
    ?.join('\n')
  return {
    pem: `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`,
    sn: md5Hex(dnText(issuer) + serial.toString(10)),
  }
}

export const ROOT_DN: Dn = [
  ['2.5.4.6', 'C', 'CN'],
  ['2.5.4.10', 'O', 'wxa-auth emulator'],
  ['2.5.4.11', 'OU', 'Certification Authority'],
  ['2.5.4.3', 'CN', 'wxa-auth emulator Root CA'],
]
export const OTHER_ROOT_DN: Dn = [
  ['2.5.4.6', 'C', 'CN'],
  ['2.5.4.10', 'O', 'wxa-auth emulator'],
  ['2.5.4.3', 'CN', 'wxa-auth emulator Root CA (not RSA)'],
]
export { ECDSA_WITH_SHA256 }
