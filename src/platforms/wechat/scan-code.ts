import { WxaAuthError } from '../../errors'
import { redact } from '../../util/redact'
import { type AppClientOptions, badResponse, DEFAULT_TIMEOUT_MS } from '../caller'
import type { MiniProgramCodeInput } from '../platform'
import { WECHAT_API_BASE, wechatError } from './client'

/** The most a mini program code may weigh: WeChat's are 20–100 KiB. */
export const MAX_CODE_BYTES = 512 * 1024

const PNG = [0x89, 0x50, 0x4e, 0x47]
const JPEG = [0xff, 0xd8, 0xff]
const starts = (bytes: Uint8Array, magic: number[]) => magic.every((b, i) => bytes[i] === b)

/**
 * A mini program code (小程序码) from `POST /wxa/getwxacodeunlimit`: the image
 * bytes and their type, or WeChat's `{ errcode }` as a WxaAuthError (40001 an
 * access token to fetch again, 41030 a page not published). One attempt: the
 * caller (a PC page) asks again. Through the open interface service
 * (`openApiBase`) no token is sent, as for WeChat's other calls.
 * https://developers.weixin.qq.com/miniprogram/dev/server/API/qrcode-link/qr-code/api_getunlimitedqrcode.html
 */
export async function getUnlimitedCode(
  client: AppClientOptions & { openApiBase?: string | undefined },
  accessToken: string,
  { scene, page, checkPath, envVersion }: MiniProgramCodeInput,
): Promise<{ bytes: Uint8Array; type: string }> {
  const api = 'getwxacodeunlimit'
  const { openApiBase, baseUrl, fetch: doFetch = fetch, timeoutMs = DEFAULT_TIMEOUT_MS } = client
  const query = openApiBase
    ? new URLSearchParams({ from_appid: client.appId })
    : new URLSearchParams({ access_token: accessToken })
  const base = (openApiBase ?? baseUrl ?? WECHAT_API_BASE).replace(/\/+$/, '')
  let res: Response
  let bytes: Uint8Array
  // Cleared once the image is read: `AbortSignal.timeout`'s timer would fire long after.
  const controller = new AbortController()
  const timer = setTimeout(
    () => controller.abort(new DOMException(`${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  )
  try {
    res = await doFetch(`${base}/wxa/getwxacodeunlimit?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        scene,
        ...(page ? { page } : {}),
        check_path: checkPath,
        env_version: envVersion,
      }),
      signal: controller.signal,
    })
    bytes = new Uint8Array(await res.arrayBuffer())
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError'
    const detail = redact(err instanceof Error ? `${err.name}: ${err.message}` : String(err))
    throw new WxaAuthError(timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE', undefined, {
      cause: new Error(`${api}: ${timedOut ? 'timed out' : 'network error'} (${detail})`),
    })
  } finally {
    clearTimeout(timer)
  }
  if (res.status >= 500) {
    throw new WxaAuthError('UPSTREAM_UNAVAILABLE', undefined, {
      cause: new Error(`${api}: HTTP ${res.status}`),
    })
  }
  if (starts(bytes, PNG) || starts(bytes, JPEG)) {
    if (bytes.length > MAX_CODE_BYTES) throw badResponse(`${api}: ${bytes.length} bytes`)
    return { bytes, type: starts(bytes, PNG) ? 'image/png' : 'image/jpeg' }
  }
  let body: { errcode?: unknown; errmsg?: unknown } | undefined
  try {
    body = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    body = undefined
  }
  if (typeof body?.errcode === 'number' && body.errcode !== 0) {
    throw wechatError(
      { errcode: body.errcode, errmsg: String(body.errmsg ?? '') },
      api,
      // 41030: the page is not published (check_path); the deployment's WECHAT_SCAN_PAGE.
      { 41030: { code: 'UPSTREAM_ERROR' } },
    )
  }
  throw badResponse(`${api}: HTTP ${res.status}, neither an image nor an errcode`)
}
