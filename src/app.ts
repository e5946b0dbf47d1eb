import { Hono } from 'hono'
import type { WxaAuthOptions } from './auth'
import { WxaAuthError } from './errors'
import type { DefaultUser } from './hooks'
import { onError } from './middleware/on-error'
import { requireLogin } from './middleware/require-login'
import { type WxaEnv, wxaSession } from './middleware/session'
import { authRoutes, limitBody } from './routes/auth'
import { wechatDataRoutes } from './routes/wechat-data'
import { readJson } from './schema'

/** `PATCH /me/session` body: keys to set; a null value deletes its key. */
export const SessionPatchBody = {
  type: 'object',
  properties: {},
  additionalProperties: true,
  description: 'Keys to merge into the session data; null deletes a key.',
} as const

/**
 * The whole wxa-auth app: `/healthz`, `/auth/*`, and the protected examples
 * `GET /me` and `PATCH /me/session`. JSON errors everywhere.
 *
 * @example
 * ```ts
 * export default createApp({ findOrCreateUser: async (identity, c) => ... })
 * ```
 */
export function createApp<User extends { id: string } = DefaultUser>(
  options: WxaAuthOptions<User> = {},
) {
  const app = new Hono<WxaEnv<User>>()
  app.onError(onError)
  app.notFound(() => {
    throw new WxaAuthError('NOT_FOUND')
  })

  app.get('/healthz', (c) => c.json({ ok: true }))
  app.use(wxaSession(options))
  app.route('/auth', authRoutes(options))
  app.route('/auth', wechatDataRoutes(options))

  app.get('/me', requireLogin(), (c) => c.json({ user: c.var.user, session: c.var.session.all() }))
  app.patch('/me/session', requireLogin(), limitBody(), async (c) => {
    const patch = (await readJson(c, SessionPatchBody)) as Record<string, unknown>
    const session = c.var.session
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) session.delete(key)
      else session.set(key, value)
    }
    return c.json({ session: session.all() })
  })

  return app
}
