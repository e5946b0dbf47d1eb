import { createMiddleware } from 'hono/factory'
import { WxaAuthError } from '../errors'
import type { WxaEnv } from './session'

/**
 * Rejects anonymous requests with 401 and a JSON error. Mount it after
 * `wxaSession()`; the error says why (`AUTH_REQUIRED`, `TOKEN_EXPIRED`, …).
 *
 * @example
 * ```ts
 * app.get('/me', requireLogin(), (c) => c.json(c.var.user))
 * ```
 */
export function requireLogin() {
  return createMiddleware<WxaEnv<unknown>>(async function requireLogin(c, next) {
    if (c.get('user') == null) {
      throw new WxaAuthError(c.get('authError') ?? 'AUTH_REQUIRED')
    }
    await next()
  })
}
