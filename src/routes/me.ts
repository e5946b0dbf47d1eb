import { Hono } from 'hono'
import type { DefaultUser } from '../hooks'
import { requireLogin } from '../middleware/require-login'
import type { WxaEnv } from '../middleware/session'
import { readJson } from '../schema'
import { limitBody } from './auth'

/** `PATCH /me/session` body: keys to set; a null value deletes its key. */
export const SessionPatchBody = {
  type: 'object',
  properties: {},
  additionalProperties: true,
  description: 'Keys to merge into the session data; null deletes a key.',
} as const

/** The example protected routes: `GET /me` and `PATCH /me/session`. */
export function meRoutes<User extends { id: string } = DefaultUser>() {
  const routes = new Hono<WxaEnv<User>>()
  routes.get('/', requireLogin(), (c) => c.json({ user: c.var.user, session: c.var.session.all() }))
  routes.patch('/session', requireLogin(), limitBody(), async (c) => {
    const patch = (await readJson(c, SessionPatchBody)) as Record<string, unknown>
    const session = c.var.session
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) session.delete(key)
      else session.set(key, value)
    }
    return c.json({ session: session.all() })
  })
  return routes
}
