import { WxaAuthError } from '../errors'
import type { AvatarRecord } from '../session/profile'
import { concat, crc32 } from '../util/bytes'

// An avatar is taken only as a well-formed PNG, JPEG or WebP, walked to its
// end marker with nothing after it, and stored without its metadata: a
// camera photo's EXIF carries where it was taken (GPS), its time and the
// device. What a decoder needs to show the image as meant stays: the pixels,
// the palette and transparency, the colour profile (ICC) and gamma.

/** An image as it is stored: its type, and its bytes without metadata. */
export interface CleanImage {
  bytes: Uint8Array
  type: AvatarRecord['type']
}

const invalid = () => new WxaAuthError('AVATAR_INVALID')

const ascii = (b: Uint8Array, at: number, length: number) =>
  String.fromCharCode(...b.subarray(at, at + length))

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength)

// PNG chunks kept: the image and its colours. Text (tEXt, zTXt, iTXt), EXIF
// (eXIf), time (tIME), any other chunk (APNG's frames too: the first image
// stays) go.
const PNG_KEPT = 'IHDR PLTE IDAT IEND tRNS gAMA cHRM sRGB iCCP pHYs'

/** A PNG's chunks, each checked against its CRC, IHDR first, up to IEND and the end of the bytes. */
function png(b: Uint8Array): Uint8Array {
  const data = view(b)
  const kept = [b.subarray(0, 8)]
  let at = 8
  let type = ''
  let pixels = false
  while (type !== 'IEND') {
    if (at + 12 > b.length) throw invalid()
    const length = data.getUint32(at)
    const end = at + 12 + length
    const first = at === 8
    type = ascii(b, at + 4, 4)
    if (
      end > b.length ||
      !/^[A-Za-z]{4}$/.test(type) ||
      first !== (type === 'IHDR') ||
      crc32(b.subarray(at + 4, end - 4)) !== data.getUint32(end - 4)
    ) {
      throw invalid()
    }
    pixels ||= type === 'IDAT'
    if (PNG_KEPT.includes(type)) kept.push(b.subarray(at, end))
    else if (type.charCodeAt(0) < 0x61) throw invalid() // a critical chunk no decoder knows
    at = end
  }
  if (at !== b.length || !pixels) throw invalid()
  return concat(kept)
}

/** Whether a JPEG APPn segment (`payload` after its length) is kept: JFIF, the ICC profile, Adobe's colour transform. */
const keptApp = (marker: number, payload: string) =>
  (marker === 0xe0 && payload.startsWith('JFIF\0')) ||
  (marker === 0xe2 && payload.startsWith('ICC_PROFILE\0')) ||
  (marker === 0xee && payload.startsWith('Adobe'))

/**
 * A JPEG's markers and segments from SOI to EOI, through each scan's
 * entropy-coded data, with nothing after EOI. APPn segments other than
 * JFIF, ICC and Adobe (EXIF and XMP are APP1) and comments go.
 */
function jpeg(b: Uint8Array): Uint8Array {
  const kept = [b.subarray(0, 2)]
  let at = 2
  let frame = false
  let scan = false
  for (;;) {
    if (b[at] !== 0xff) throw invalid()
    while (b[at] === 0xff) at++ // fill bytes
    const marker = b[at++] ?? 0
    if (marker === 0xd9) {
      if (!scan || at !== b.length) throw invalid()
      kept.push(Uint8Array.of(0xff, 0xd9))
      return concat(kept)
    }
    // Markers without a length (SOI, RSTn, TEM) have no place here.
    if (marker === 0 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) throw invalid()
    if (at + 2 > b.length) throw invalid()
    const length = ((b[at] as number) << 8) | (b[at + 1] as number)
    let end = at + length
    if (length < 2 || end > b.length) throw invalid()
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) frame = true
    if (marker === 0xda) {
      if (!frame) throw invalid()
      // Entropy-coded data: up to the next marker; FF00 (a stuffed FF) and RSTn belong to it.
      for (;;) {
        if (end + 1 >= b.length) throw invalid()
        const next = b[end + 1] as number
        if (b[end] === 0xff && next !== 0 && (next < 0xd0 || next > 0xd7)) break
        end += b[end] === 0xff ? 2 : 1
      }
      scan = true
    }
    const isApp = marker >= 0xe0 && marker <= 0xef
    if (!(marker === 0xfe || (isApp && !keptApp(marker, ascii(b, at + 2, 12))))) {
      kept.push(Uint8Array.of(0xff, marker), b.subarray(at, end))
    }
    at = end
  }
}

// WebP chunks kept: the image (lossy, lossless, alpha, animation frames) and its ICC profile.
const WEBP_KEPT = 'VP8 VP8L ALPH ANIM ANMF ICCP'
const VP8X_EXIF_XMP = 0x08 | 0x04 // the flags of the VP8X chunk that announce EXIF and XMP

/**
 * A WebP's RIFF chunks, each within the RIFF size, which ends exactly at the
 * end of the bytes. EXIF and XMP chunks go, and VP8X no longer announces them.
 */
function webp(b: Uint8Array): Uint8Array {
  const data = view(b)
  if (b.length < 20 || data.getUint32(4, true) !== b.length - 8) throw invalid()
  const kept: Uint8Array[] = []
  let at = 12
  let image = false
  while (at < b.length) {
    if (at + 8 > b.length) throw invalid()
    const type = ascii(b, at, 4)
    const size = data.getUint32(at + 4, true)
    const end = at + 8 + size + (size & 1)
    if (end > b.length) throw invalid()
    // The first chunk is the image or VP8X; only an extended file (VP8X) has more.
    if (at === 12 ? !/^VP8[ LX]$/.test(type) : !kept[0] || ascii(kept[0], 0, 4) !== 'VP8X') {
      throw invalid()
    }
    image ||= /^(VP8[ L]|ANMF)$/.test(type)
    const chunk = b.slice(at, end)
    if (type === 'VP8X') {
      if (size < 10) throw invalid()
      chunk[8] = (chunk[8] as number) & ~VP8X_EXIF_XMP
    }
    if (type === 'VP8X' || WEBP_KEPT.includes(type)) kept.push(chunk)
    at = end
  }
  if (!image) throw invalid()
  const out = concat([b.subarray(0, 12), ...kept])
  view(out).setUint32(4, out.length - 8, true)
  return out
}

/**
 * The avatar `bytes` as stored: its type by its bytes (what the client
 * claims is not asked), its structure walked to the end, its metadata gone.
 *
 * @throws WxaAuthError `AVATAR_INVALID` (415) for anything else, a broken or truncated image, or bytes after its end
 */
export function cleanImage(bytes: Uint8Array): CleanImage {
  const starts = (at: number, text: string) => ascii(bytes, at, text.length) === text
  if (starts(0, '\x89PNG\r\n\x1a\n')) return { type: 'image/png', bytes: png(bytes) }
  if (starts(0, '\xff\xd8')) return { type: 'image/jpeg', bytes: jpeg(bytes) }
  if (starts(0, 'RIFF') && starts(8, 'WEBP')) return { type: 'image/webp', bytes: webp(bytes) }
  throw invalid()
}
