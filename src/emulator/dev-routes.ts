import { Hono } from 'hono'
import { ERROR_STATUS, WxaAuthError, type WxaErrorCode } from '../errors'
import type { DefaultUser } from '../hooks'
import { requireLogin } from '../middleware/require-login'
import type { WxaEnv } from '../middleware/session'

const MAX_DELAY = 5_000 // ms
const MAX_DOWNLOAD = 64 * 1024 // bytes
const MAX_UPLOAD = 256 * 1024 // bytes

/** Failures handed out so far per `key` of `/__dev/fail`; one dev isolate serves the tests. */
const failures = new Map<string, number>()

/**
 * Protected routes for the client SDK's tests and the playground, in dev only
 * (404 without the emulator, like `/__emulator/*`): a file upload and a
 * download to try the SDK's `uploadFile` and `downloadFile` on, a route that
 * always answers 401, one that fails a given number of times with a given
 * code (and its `Retry-After`), and a slow echo.
 */
export function devRoutes() {
  const routes = new Hono<WxaEnv<DefaultUser, { Bindings: { WECHAT_EMULATOR?: unknown } }>>()
  routes.use(async function devOnly(c, next) {
    if (!c.env?.WECHAT_EMULATOR) throw new WxaAuthError('NOT_FOUND')
    await next()
  })
  routes.use(requireLogin())

  routes.all('/echo', async (c) => {
    const delay = Math.min(Number(c.req.query('delay')) || 0, MAX_DELAY)
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
    return c.json({ method: c.req.method, query: c.req.query(), user: c.var.user })
  })

  routes.all('/unauthorized', () => {
    throw new WxaAuthError('AUTH_REQUIRED', 'This route answers 401 to every request.')
  })

  // `?key=<k>&code=<WxaErrorCode>&times=<n>&retryAfter=<s>`: the first n calls for k fail.
  routes.all('/fail', (c) => {
    const { key = '', code = '', times = '0', retryAfter } = c.req.query()
    if (!(code in ERROR_STATUS)) throw new WxaAuthError('INVALID_REQUEST', 'unknown code')
    const failed = failures.get(key) ?? 0
    if (failed < Number(times)) {
      failures.set(key, failed + 1)
      throw new WxaAuthError(code as WxaErrorCode, undefined, {
        ...(retryAfter ? { retryAfter: Number(retryAfter) } : {}),
      })
    }
    return c.json({ failed, user: c.var.user })
  })

  routes.post('/upload', async (c) => {
    const form = await c.req.formData()
    const fields: Record<string, string> = {}
    const files: Record<string, { name: string; size: number; sha256: string }> = {}
    for (const [name, value] of form) {
      if (typeof value === 'string') {
        fields[name] = value
        continue
      }
      if (value.size > MAX_UPLOAD) throw new WxaAuthError('PAYLOAD_TOO_LARGE')
      const digest = await crypto.subtle.digest('SHA-256', await value.arrayBuffer())
      const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0'))
      files[name] = { name: value.name, size: value.size, sha256: sha256.join('') }
    }
    return c.json({ fields, files, user: c.var.user })
  })

  // `?size=<n>`: n bytes, byte i being i mod 251, so that a test can check every one.
  routes.get('/download', (c) => {
    const size = Math.min(Number(c.req.query('size')) || 0, MAX_DOWNLOAD)
    const body = Uint8Array.from({ length: size }, (_, i) => i % 251)
    return c.body(body, 200, { 'Content-Type': 'application/octet-stream' })
  })

  return routes
}
