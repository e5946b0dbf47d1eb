import type { DefaultUser } from '../hooks'
import { limitBody } from '../middleware/body-limit'
import { requireLogin } from '../middleware/require-login'
import type { WxaEnv } from '../middleware/session'
import { describe, json } from '../openapi/describe'
import { Hono } from '../util/hono'
import { MeResponse, SessionPatchBody, SessionResponse } from './schemas'

/** The example protected routes: `GET /me` and `PATCH /me/session`. */
export function meRoutes<User extends { id: string } = DefaultUser>() {
  const routes = new Hono<WxaEnv<User>>()
  routes.get(
    '/',
    describe({
      tag: 'example',
      summary: 'The user and the session data (an example protected route)',
      auth: true,
      response: MeResponse,
      errors: [],
    }),
    requireLogin(),
    (c) => c.json({ user: c.var.user, session: c.var.session.all() }),
  )
  routes.patch(
    '/session',
    describe({
      tag: 'example',
      summary: 'Change session data (an example of a session write)',
      auth: true,
      body: true,
      response: SessionResponse,
      errors: [],
    }),
    requireLogin(),
    limitBody(),
    json(SessionPatchBody),
    async (c) => {
      const session = c.var.session
      // The body as parsed, not as validated: validation drops a `__proto__`
      // key, which here is plain session data like any other.
      const patch = (await c.req.json()) as Record<string, unknown>
      for (const [key, value] of Object.entries(patch)) {
        if (value === null) session.delete(key)
        else session.set(key, value)
      }
      return c.json({ session: session.all() })
    },
  )
  return routes
}
