// The little DER Alipay's keys and certificates need, read and written by
// hand (X.690): WebCrypto imports PKCS#8 and SPKI only, and parses no
// certificate. Every reader throws a plain Error on malformed input; the
// callers turn it into their own error.

/** One TLV: its tag, where its value starts and ends in the buffer. */
export interface Tlv {
  tag: number
  /** Offset of the first byte of the TLV (its tag). */
  at: number
  /** Offset of the value's first byte. */
  start: number
  /** Offset after the value's last byte. */
  end: number
}

export const SEQUENCE = 0x30
export const SET = 0x31
export const INTEGER = 0x02
export const BIT_STRING = 0x03
export const OCTET_STRING = 0x04
export const NULL = 0x05
export const OID = 0x06

/** The TLV at `at`, checked to lie inside `limit`. */
export function readTlv(bytes: Uint8Array, at: number, limit = bytes.length): Tlv {
  if (at + 2 > limit) throw new Error('DER: truncated')
  const tag = bytes[at] as number
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: multi-byte tags are not used here')
  let length = bytes[at + 1] as number
  let start = at + 2
  if (length & 0x80) {
    const n = length & 0x7f
    if (n === 0 || n > 4 || start + n > limit) throw new Error('DER: bad length')
    length = 0
    for (let i = 0; i < n; i++) length = length * 256 + (bytes[start + i] as number)
    start += n
  }
  const end = start + length
  if (end > limit) throw new Error('DER: length past the end')
  return { tag, at, start, end }
}

/** The TLVs inside a constructed TLV, in order. */
export function children(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = []
  for (let at = parent.start; at < parent.end; ) {
    const tlv = readTlv(bytes, at, parent.end)
    out.push(tlv)
    at = tlv.end
  }
  return out
}

/** The one TLV that is all of `bytes`, with tag `tag`. */
export function whole(bytes: Uint8Array, tag: number): Tlv {
  const tlv = readTlv(bytes, 0)
  if (tlv.tag !== tag || tlv.end !== bytes.length) throw new Error('DER: not one element')
  return tlv
}

/** The children of `tlv`, which must be a SEQUENCE of at least `min` elements. */
export function sequence(bytes: Uint8Array, tlv: Tlv | undefined, min = 0): Tlv[] {
  if (!tlv || tlv.tag !== SEQUENCE) throw new Error('DER: SEQUENCE expected')
  const items = children(bytes, tlv)
  if (items.length < min) throw new Error('DER: SEQUENCE too short')
  return items
}

/** An OBJECT IDENTIFIER's dotted form. */
export function oidText(bytes: Uint8Array, tlv: Tlv | undefined): string {
  if (!tlv || tlv.tag !== OID || tlv.end === tlv.start) throw new Error('DER: OID expected')
  const first = bytes[tlv.start] as number
  const arcs = [
    Math.min(2, Math.floor(first / 40)),
    first - 40 * Math.min(2, Math.floor(first / 40)),
  ]
  let value = 0
  for (let i = tlv.start + 1; i < tlv.end; i++) {
    const byte = bytes[i] as number
    value = value * 128 + (byte & 0x7f)
    if (!(byte & 0x80)) {
      arcs.push(value)
      value = 0
    }
  }
  return arcs.join('.')
}

/** A non-negative INTEGER's value in decimal (a certificate's serial number). */
export function integerDecimal(bytes: Uint8Array, tlv: Tlv | undefined): string {
  if (!tlv || tlv.tag !== INTEGER || tlv.end === tlv.start) throw new Error('DER: INTEGER expected')
  let n = 0n
  for (let i = tlv.start; i < tlv.end; i++) n = n * 256n + BigInt(bytes[i] as number)
  return n.toString(10)
}

/** The bytes of `tlv`, tag and length included. */
export const raw = (bytes: Uint8Array, tlv: Tlv) => bytes.subarray(tlv.at, tlv.end)

/** The bytes of `tlv`'s value. */
export const value = (bytes: Uint8Array, tlv: Tlv) => bytes.subarray(tlv.start, tlv.end)

/** One TLV made of `tag` and `content`. */
export function encode(tag: number, ...content: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const length = content.reduce((n, part) => n + part.length, 0)
  const lengthBytes: number[] = []
  if (length < 0x80) lengthBytes.push(length)
  else {
    for (let n = length; n > 0; n = Math.floor(n / 256)) lengthBytes.unshift(n % 256)
    lengthBytes.unshift(0x80 | lengthBytes.length)
  }
  const out = new Uint8Array(1 + lengthBytes.length + length)
  out[0] = tag
  out.set(lengthBytes, 1)
  let at = 1 + lengthBytes.length
  for (const part of content) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** An OBJECT IDENTIFIER from its dotted form. */
export function encodeOid(dotted: string): Uint8Array<ArrayBuffer> {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number)
  const body = [40 * a + b]
  for (const arc of rest) {
    const chunk = [arc % 128]
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128))
      chunk.unshift(0x80 | (n % 128))
    body.push(...chunk)
  }
  return encode(OID, new Uint8Array(body))
}

/** rsaEncryption (PKCS#1), the key algorithm of every Alipay key. */
export const RSA_ENCRYPTION = '1.2.840.113549.1.1.1'
/** The signature algorithms whose certificates count in `alipay_root_cert_sn`. */
export const SHA1_WITH_RSA = '1.2.840.113549.1.1.5'
export const SHA256_WITH_RSA = '1.2.840.113549.1.1.11'

const rsaAlgorithm = () => encode(SEQUENCE, encodeOid(RSA_ENCRYPTION), encode(NULL))

/** A PKCS#1 RSAPrivateKey wrapped as PKCS#8 PrivateKeyInfo (RFC 5208), which WebCrypto imports. */
export const pkcs8FromPkcs1 = (pkcs1: Uint8Array) =>
  encode(
    SEQUENCE,
    encode(INTEGER, new Uint8Array([0])),
    rsaAlgorithm(),
    encode(OCTET_STRING, pkcs1),
  )

/** A PKCS#1 RSAPublicKey wrapped as SubjectPublicKeyInfo (RFC 5280), which WebCrypto imports. */
export const spkiFromPkcs1 = (pkcs1: Uint8Array) =>
  encode(SEQUENCE, rsaAlgorithm(), encode(BIT_STRING, new Uint8Array([0]), pkcs1))

/** The PKCS#1 RSAPrivateKey inside a PKCS#8 PrivateKeyInfo (what Alipay's key tool calls "非 Java"). */
export function pkcs1FromPkcs8(pkcs8: Uint8Array): Uint8Array {
  const [, , key] = sequence(pkcs8, whole(pkcs8, SEQUENCE), 3)
  if (key?.tag !== OCTET_STRING) throw new Error('DER: not PKCS#8')
  return value(pkcs8, key).slice()
}
