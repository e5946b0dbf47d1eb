// Real PNG, JPEG and WebP files built byte by byte (CRCs and sizes computed
// here, not by wxa-auth's code), with the metadata a camera writes (EXIF with
// GPS, XMP, text, comments) when asked, and a reader of their parts to check
// what was stored.

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0))
const join = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((part) => [...part]))
const u32be = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255)
const u32le = (n: number) => Uint8Array.of(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24)
const u16be = (n: number) => Uint8Array.of(n >>> 8, n & 255)

/** CRC-32, bit by bit (the polynomial of ISO 3309). */
export function crc(data: Uint8Array): number {
  let c = ~0
  for (const byte of data) {
    c ^= byte
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1))
  }
  return ~c >>> 0
}

/** The image data stands for the pixels: `text` (the emulator's image check reads it), then `pad` zeros. */
const payload = (text: string, pad: number) => join(bytes(text), new Uint8Array(pad))

/** An EXIF block (TIFF, big-endian) whose IFD0 points at a GPS IFD with a latitude. */
export const EXIF_WITH_GPS = join(
  bytes('Exif\0\0MM\0*'),
  u32be(8),
  u16be(1), // IFD0: one entry, GPSInfo (0x8825) -> offset 26
  Uint8Array.of(0x88, 0x25, 0, 4),
  u32be(1),
  u32be(26),
  u32be(0),
  u16be(1), // GPS IFD: GPSLatitudeRef 'N'
  Uint8Array.of(0, 1, 0, 2),
  u32be(2),
  bytes('N\0\0\0'),
  u32be(0),
  bytes('GPS 39.9042N 116.4074E'),
)
export const XMP = bytes(
  'http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>39,54.25N</exif:GPSLatitude></x:xmpmeta>',
)

const pngChunk = (type: string, data: Uint8Array) =>
  join(u32be(data.length), bytes(type), data, u32be(crc(join(bytes(type), data))))

/** A 1×1 PNG; `meta` adds tEXt, iTXt, zTXt, eXIf, tIME, a private chunk and acTL. */
export function png(text = 'a fine picture', { pad = 0, meta = false } = {}) {
  const ihdr = Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0)
  return join(
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    pngChunk('IHDR', ihdr),
    ...(meta
      ? [
          pngChunk('tEXt', bytes('Comment\0taken at home')),
          pngChunk('iTXt', bytes('XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>')),
          pngChunk('zTXt', bytes('Author\0\0x')),
          pngChunk('eXIf', EXIF_WITH_GPS.subarray(6)),
          pngChunk('tIME', Uint8Array.of(0x07, 0xea, 12, 7, 12, 0, 0)),
          pngChunk('prVt', bytes('device serial 123')),
          // An animation's control chunk: the animation goes, the image stays.
          pngChunk('acTL', Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0)),
        ]
      : []),
    pngChunk('sRGB', Uint8Array.of(0)),
    pngChunk('IDAT', payload(text, pad)),
    pngChunk('IEND', new Uint8Array()),
  )
}

const segment = (marker: number, data: Uint8Array) =>
  join(Uint8Array.of(0xff, marker), u16be(data.length + 2), data)

/** A baseline JPEG's structure; `meta` adds EXIF (GPS) and XMP in APP1, IPTC in APP13 and a comment. */
export function jpeg(text = 'a fine picture', { pad = 0, meta = false } = {}) {
  return join(
    Uint8Array.of(0xff, 0xd8),
    segment(0xe0, join(bytes('JFIF\0'), Uint8Array.of(1, 1, 0, 0, 1, 0, 1, 0, 0))),
    ...(meta
      ? [
          segment(0xe1, EXIF_WITH_GPS),
          segment(0xe1, XMP),
          segment(0xed, bytes('Photoshop 3.0\0 8BIM city: Beijing')),
          segment(0xfe, bytes('shot on a phone at home')),
        ]
      : []),
    segment(0xe2, bytes('ICC_PROFILE\0\x01\x01 colours')),
    segment(0xee, bytes('Adobe\0\x64\0\0\0\0\x01')),
    segment(0xdb, join(Uint8Array.of(0), new Uint8Array(64).fill(1))),
    segment(0xc0, Uint8Array.of(8, 0, 1, 0, 1, 1, 1, 0x11, 0)),
    segment(0xc4, join(Uint8Array.of(0), new Uint8Array(16), Uint8Array.of())),
    segment(0xda, Uint8Array.of(1, 1, 0, 0, 63, 0)),
    // Entropy-coded data, with a stuffed FF (FF00) and a restart marker inside.
    payload(text, pad),
    Uint8Array.of(0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56),
    Uint8Array.of(0xff, 0xd9),
  )
}

const riffChunk = (type: string, data: Uint8Array) =>
  join(bytes(type), u32le(data.length), data, new Uint8Array(data.length & 1))

/** A lossy WebP; `meta` makes it extended (VP8X) with EXIF (GPS) and XMP chunks, announced in its flags. */
export function webp(text = 'a fine picture', { pad = 0, meta = false } = {}) {
  const frame = join(
    Uint8Array.of(0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a, 1, 0, 1, 0),
    payload(text, pad),
  )
  const chunks = meta
    ? join(
        riffChunk('VP8X', Uint8Array.of(0x08 | 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
        riffChunk('VP8 ', frame),
        riffChunk('EXIF', EXIF_WITH_GPS.subarray(6)),
        riffChunk('XMP ', XMP),
      )
    : riffChunk('VP8 ', frame)
  return join(bytes('RIFF'), u32le(chunks.length + 4), bytes('WEBP'), chunks)
}

/** The parts of an image, read independently: PNG chunk types, JPEG markers, WebP chunk types; throws when broken. */
export function partsOf(image: Uint8Array): string[] {
  const parts: string[] = []
  const text = (at: number, n: number) => String.fromCharCode(...image.subarray(at, at + n))
  const be32 = (at: number) => new DataView(image.buffer, image.byteOffset).getUint32(at)
  const le32 = (at: number) => new DataView(image.buffer, image.byteOffset).getUint32(at, true)
  if (text(1, 3) === 'PNG') {
    for (let at = 8; at < image.length; ) {
      const length = be32(at)
      const type = text(at + 4, 4)
      if (crc(image.subarray(at + 4, at + 8 + length)) !== be32(at + 8 + length)) {
        throw new Error(`bad CRC in ${type}`)
      }
      parts.push(type)
      at += 12 + length
      if (type === 'IEND' && at !== image.length) throw new Error('bytes after IEND')
    }
  } else if (image[0] === 0xff && image[1] === 0xd8) {
    for (let at = 2; at < image.length; ) {
      const marker = image[at + 1] as number
      parts.push(marker.toString(16).toUpperCase())
      if (marker === 0xd9) {
        if (at + 2 !== image.length) throw new Error('bytes after EOI')
        break
      }
      at += 2 + (((image[at + 2] as number) << 8) | (image[at + 3] as number))
      if (marker === 0xda) {
        while (!(image[at] === 0xff && image[at + 1] === 0xd9)) at++
      }
    }
  } else if (text(8, 4) === 'WEBP') {
    if (le32(4) !== image.length - 8) throw new Error('RIFF size is not the file')
    for (let at = 12; at < image.length; ) {
      const size = le32(at + 4)
      parts.push(text(at, 4))
      if (text(at, 4) === 'VP8X') parts.push(`flags ${image[at + 8]}`)
      at += 8 + size + (size & 1)
    }
  } else throw new Error('not an image')
  return parts
}

/** Whether `image` holds `needle` (as bytes) anywhere. */
export function holds(image: Uint8Array, needle: string): boolean {
  let text = ''
  for (let at = 0; at < image.length; at += 8192) {
    text += String.fromCharCode(...image.subarray(at, at + 8192))
  }
  return text.includes(needle)
}
