import type { Hono } from 'hono'
import { concat, crc32 } from '../../util/bytes'
import type { EmulatorState } from './state'
import { wxError } from './state'

// The emulator's mini program code: a real PNG (grayscale, zlib stored blocks)
// whose squares come from the scene, with the scene, page and version in tEXt
// chunks, so that a test (or the playground) reads back what was asked for.
// Not a scannable code: no phone scans the emulator's.

const SCENE = /^[\w!#$&'()*+,/:;=?@.~-]{1,32}$/
const CELLS = 21 // a version-1 QR code's grid, for the look
const SCALE = 6
const MARGIN = 2 // cells

const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0) & 255)
const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255)
const chunk = (type: string, data: Uint8Array) => {
  const body = concat([latin1(type), data])
  return concat([u32(data.length), body, u32(crc32(body))])
}

/** zlib of `data` in stored (uncompressed) deflate blocks, with its Adler-32. */
function zlibStored(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0x78, 0x01)]
  for (let at = 0; at < data.length || at === 0; at += 0xffff) {
    const block = data.subarray(at, at + 0xffff)
    const last = at + 0xffff >= data.length ? 1 : 0
    parts.push(
      Uint8Array.of(
        last,
        block.length & 255,
        block.length >>> 8,
        ~block.length & 255,
        (~block.length >>> 8) & 255,
      ),
      block,
    )
  }
  let a = 1
  let b = 0
  for (const byte of data) {
    a = (a + byte) % 65521
    b = (b + a) % 65521
  }
  parts.push(u32(((b << 16) | a) >>> 0))
  return concat(parts)
}

/** Whether cell (x, y) is dark: three finder squares, the rest from the scene's bits. */
function dark(x: number, y: number, bits: Uint8Array): boolean {
  for (const [fx, fy] of [
    [0, 0],
    [CELLS - 7, 0],
    [0, CELLS - 7],
  ] as const) {
    const dx = x - fx
    const dy = y - fy
    if (dx >= 0 && dx < 7 && dy >= 0 && dy < 7) {
      const ring = Math.min(dx, dy, 6 - dx, 6 - dy)
      return ring !== 1
    }
    if (dx >= -1 && dx <= 7 && dy >= -1 && dy <= 7) return false
  }
  const n = y * CELLS + x
  return (((bits[(n >>> 3) % bits.length] as number) >>> (n & 7)) & 1) === 1
}

/** A PNG of the emulator's code for `scene`: real, decodable, with tEXt chunks naming what it opens. */
export async function emulatedCode(scene: string, page: string, envVersion: string) {
  const bits = new Uint8Array(await crypto.subtle.digest('SHA-256', latin1(scene)))
  const side = (CELLS + 2 * MARGIN) * SCALE
  const raw = new Uint8Array(side * (side + 1))
  for (let py = 0; py < side; py++) {
    raw[py * (side + 1)] = 0 // filter: none
    for (let px = 0; px < side; px++) {
      const x = Math.floor(px / SCALE) - MARGIN
      const y = Math.floor(py / SCALE) - MARGIN
      const inside = x >= 0 && y >= 0 && x < CELLS && y < CELLS
      raw[py * (side + 1) + 1 + px] = inside && dark(x, y, bits) ? 0 : 255
    }
  }
  const text = (key: string, value: string) => chunk('tEXt', latin1(`${key}\0${value}`))
  return concat([
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk('IHDR', concat([u32(side), u32(side), Uint8Array.of(8, 0, 0, 0, 0)])),
    text('scene', scene),
    text('page', page),
    text('env_version', envVersion),
    chunk('IDAT', zlibStored(raw)),
    chunk('IEND', new Uint8Array()),
  ])
}

/**
 * `POST /wxa/getwxacodeunlimit`: the image bytes, or WeChat's `{ errcode }`
 * (a token refused, 40169 an invalid scene, 41030 a page when `check_path`
 * and the page is not among the emulator's published ones: any `pages/…` is).
 * https://developers.weixin.qq.com/miniprogram/dev/server/API/qrcode-link/qr-code/api_getunlimitedqrcode.html
 */
export function wxacodeRoute(app: Hono, { rejectToken, body, storage }: EmulatorState) {
  app.post('/wxa/getwxacodeunlimit', async (c) => {
    const token = await rejectToken(c.req.query('access_token'))
    if (token instanceof Response) return token
    const { scene, page = '', check_path = true, env_version = 'release' } = await body(c.req.raw)
    if (typeof scene !== 'string' || !SCENE.test(scene)) return wxError(40169, 'invalid scene')
    if (typeof page !== 'string' || (page !== '' && !/^[\w-]+(\/[\w.-]+)*$/.test(page))) {
      return wxError(41030, 'invalid page')
    }
    if (check_path !== false && page !== '' && !page.startsWith('pages/')) {
      return wxError(41030, 'invalid page')
    }
    await storage.put('wxacodeCalls', ((await storage.get<number>('wxacodeCalls')) ?? 0) + 1)
    const png = await emulatedCode(scene, page, String(env_version))
    return new Response(png, { headers: { 'content-type': 'image/png' } })
  })
}
