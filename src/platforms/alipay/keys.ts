import { bytesOf } from '../../util/base64url'
import {
  BIT_STRING,
  children,
  INTEGER,
  integerDecimal,
  OCTET_STRING,
  oidText,
  pkcs8FromPkcs1,
  RSA_ENCRYPTION,
  raw,
  SEQUENCE,
  SET,
  SHA1_WITH_RSA,
  SHA256_WITH_RSA,
  sequence,
  spkiFromPkcs1,
  type Tlv,
  whole,
} from './der'
import { md5Hex } from './md5'

// Alipay's RSA2: SHA256withRSA, i.e. RSASSA-PKCS1-v1_5 with SHA-256, on
// WebCrypto alone (workerd and Node alike).
// https://opendocs.alipay.com/common/02kf5q (自行实现签名)
const RSA2 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const
const encoder = new TextEncoder()

/** A key as configured: which form it was in, and the DER WebCrypto takes. */
export interface KeyDer {
  der: Uint8Array<ArrayBuffer>
  /** How it was written: `pkcs8`, `pkcs1`, `spki`, or `certificate`. */
  form: 'pkcs8' | 'pkcs1' | 'spki' | 'certificate'
}

/** The PEM blocks of `text` (label and DER), or one bare base64 block labelled ''. */
export function pemBlocks(text: string): { label: string; der: Uint8Array<ArrayBuffer> }[] {
  // Variables often hold a PEM with its line breaks written as \n.
  const source = text.replace(/\\r/g, '').replace(/\\n/g, '\n').trim()
  const blocks: { label: string; der: Uint8Array<ArrayBuffer> }[] = []
  const pem = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g
  for (let m = pem.exec(source); m; m = pem.exec(source)) {
    blocks.push({ label: m[1] as string, der: base64Bytes(m[2] as string) })
  }
  if (blocks.length === 0 && !source.includes('-----')) {
    blocks.push({ label: '', der: base64Bytes(source) })
  }
  return blocks
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  const compact = text.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw new Error('not base64')
  return bytesOf(atob(compact))
}

/** Whether a SEQUENCE's third element is an INTEGER (PKCS#1) rather than a SEQUENCE (PKCS#8). */
function privateForm(der: Uint8Array): 'pkcs8' | 'pkcs1' {
  const items = sequence(der, whole(der, SEQUENCE), 3)
  if (items[0]?.tag !== INTEGER) throw new Error('not a private key')
  if (items[1]?.tag === SEQUENCE && items[2]?.tag === OCTET_STRING) {
    const [algorithm] = sequence(der, items[1], 1)
    if (oidText(der, algorithm) !== RSA_ENCRYPTION) throw new Error('not an RSA key')
    return 'pkcs8'
  }
  if (items[1]?.tag === INTEGER && items.length >= 9) return 'pkcs1'
  throw new Error('not a private key')
}

/**
 * The app's private key as PKCS#8 DER, from a PKCS#8 PEM (`BEGIN PRIVATE
 * KEY`), a PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), or the bare base64 of either
 * that Alipay's key tool prints. Throws a plain Error saying what it is not.
 */
export function privateKeyDer(text: string): KeyDer {
  const [block, ...more] = pemBlocks(text)
  if (!block || more.length) throw new Error('not one key')
  if (block.label !== '' && !/^(RSA )?PRIVATE KEY$/.test(block.label)) {
    throw new Error(`a ${block.label}, not a private key`)
  }
  const form = privateForm(block.der)
  return { der: form === 'pkcs8' ? block.der : pkcs8FromPkcs1(block.der), form }
}

/** Alipay's public key as SPKI DER, from an SPKI PEM or bare base64 (or PKCS#1 `BEGIN RSA PUBLIC KEY`). */
export function publicKeyDer(text: string): KeyDer {
  const [block, ...more] = pemBlocks(text)
  if (!block || more.length) throw new Error('not one key')
  if (block.label === 'CERTIFICATE')
    return { der: parseCertificate(block.der).spki, form: 'certificate' }
  if (block.label !== '' && !/^(RSA )?PUBLIC KEY$/.test(block.label)) {
    throw new Error(`a ${block.label}, not a public key`)
  }
  const items = sequence(block.der, whole(block.der, SEQUENCE), 2)
  if (items[0]?.tag === INTEGER && items[1]?.tag === INTEGER) {
    return { der: spkiFromPkcs1(block.der), form: 'pkcs1' }
  }
  const [algorithm] = sequence(block.der, items[0], 1)
  if (oidText(block.der, algorithm) !== RSA_ENCRYPTION || items[1]?.tag !== BIT_STRING) {
    throw new Error('not an RSA public key')
  }
  return { der: block.der, form: 'spki' }
}

/** What Alipay's certificate mode reads of a certificate. */
export interface Certificate {
  /** The issuer's distinguished name as Alipay's SDKs write it (RFC 2253 order: `CN=…,OU=…,O=…,C=…`). */
  issuer: string
  /** The serial number in decimal. */
  serial: string
  /** The signature algorithm's OID. */
  signatureAlgorithm: string
  spki: Uint8Array<ArrayBuffer>
}

// The attribute names Java's X500Principal.getName() (RFC 2253) writes, which Alipay's SN hashes.
const NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
}

function attributeText(der: Uint8Array, tlv: Tlv): string {
  const bytes = der.subarray(tlv.start, tlv.end)
  if (tlv.tag === 0x1e) {
    let out = ''
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      out += String.fromCharCode(((bytes[i] as number) << 8) | (bytes[i + 1] as number))
    }
    return out
  }
  return new TextDecoder().decode(bytes)
}

/** A Name (RFC 5280 §4.1.2.4) as RFC 2253 writes it: the last RDN first, `type=value` joined by commas. */
function nameText(der: Uint8Array, name: Tlv): string {
  return sequence(der, name)
    .map((rdn) => {
      if (rdn.tag !== SET) throw new Error('DER: RDN expected')
      return children(der, rdn)
        .map((pair) => {
          const [type, val] = sequence(der, pair, 2)
          const oid = oidText(der, type)
          const text = attributeText(der, val as Tlv).replace(/([,+"\\<>;])/g, '\\$1')
          return `${NAMES[oid] ?? oid}=${text}`
        })
        .join('+')
    })
    .reverse()
    .join(',')
}

/** An X.509 certificate's issuer, serial number, signature algorithm and public key. */
export function parseCertificate(der: Uint8Array): Certificate {
  const [tbs, algorithm] = sequence(der, whole(der, SEQUENCE), 3)
  const fields = sequence(der, tbs, 6)
  // [0] version is optional (v1 certificates have none).
  const at = fields[0]?.tag === 0xa0 ? 1 : 0
  const spki = fields[at + 5] as Tlv
  sequence(der, spki, 2)
  return {
    serial: integerDecimal(der, fields[at]),
    issuer: nameText(der, fields[at + 2] as Tlv),
    signatureAlgorithm: oidText(der, sequence(der, algorithm, 1)[0]),
    spki: raw(der, spki).slice(),
  }
}

/** A certificate's SN as Alipay computes it: md5 of the issuer's name and the decimal serial number. */
export const certificateSn = (cert: Certificate) => md5Hex(cert.issuer + cert.serial)

/** The certificates of a PEM text, parsed. Throws when there is none, or a block is not one. */
export function certificates(text: string): Certificate[] {
  const blocks = pemBlocks(text)
  if (!blocks.length || blocks.some((b) => b.label !== 'CERTIFICATE')) {
    throw new Error('not PEM certificates')
  }
  return blocks.map((b) => parseCertificate(b.der))
}

/**
 * `alipay_root_cert_sn`: the SNs of the root certificate file's RSA
 * certificates (sha1WithRSA, sha256WithRSA; the SM2 one is left out),
 * joined with `_`, as Alipay's SDKs compute it.
 */
export function rootCertSn(certs: Certificate[]): string {
  return certs
    .filter(
      (c) => c.signatureAlgorithm === SHA1_WITH_RSA || c.signatureAlgorithm === SHA256_WITH_RSA,
    )
    .map(certificateSn)
    .join('_')
}

export const importSigningKey = (der: Uint8Array<ArrayBuffer>) =>
  crypto.subtle.importKey('pkcs8', der, RSA2, false, ['sign'])

export const importVerifyingKey = (der: Uint8Array<ArrayBuffer>) =>
  crypto.subtle.importKey('spki', der, RSA2, false, ['verify'])

/** RSA2 signature of `content`, base64. */
export async function rsa2Sign(key: CryptoKey, content: string): Promise<string> {
  const signature = new Uint8Array(await crypto.subtle.sign(RSA2, key, encoder.encode(content)))
  let binary = ''
  for (const byte of signature) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** Whether `sign` (base64) is the RSA2 signature of `content`; false for anything malformed. */
export async function rsa2Verify(key: CryptoKey, content: string, sign: unknown): Promise<boolean> {
  if (typeof sign !== 'string' || sign === '') return false
  let bytes: Uint8Array<ArrayBuffer>
  try {
    bytes = base64Bytes(sign)
  } catch {
    return false
  }
  return crypto.subtle.verify(RSA2, key, bytes, encoder.encode(content))
}

/**
 * The string Alipay signs: every parameter with a value, except those
 * `omitted`, sorted by key, `k=v` joined by `&`, values as they are (not
 * URL-encoded).
 */
export function signingString(
  params: Record<string, string | undefined>,
  omitted: readonly string[] = ['sign'],
): string {
  return Object.keys(params)
    .filter((k) => !omitted.includes(k) && params[k] !== undefined && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&')
}
