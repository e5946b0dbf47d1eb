import { Hono } from 'hono/tiny'
import type { WxaAuthOptions } from './config'
import { WxaAuthError } from './errors'
import { errorHandler } from './middleware/on-error'
import { type WxaEnv, wxaSession } from './middleware/session'
import { describe } from './openapi/describe'
import { type OpenApiDocument, openApiDocument } from './openapi/document'
import { docsPage } from './openapi/page'
import { authRoutes } from './routes/auth'
import { meRoutes } from './routes/me'
import { HealthResponse } from './routes/schemas'
import { wechatDataRoutes } from './routes/wechat-data'
import { wechatEventRoutes } from './routes/wechat-events'
import type { DefaultUser } from './user/hooks'

export const VERSION = '0.1.0'

/**
 * The whole wxa-auth app: `/healthz`, `/auth/*`, the protected examples
 * `GET /me` and `PATCH /me/session`, WeChat's message push at
 * `/wechat/events` (with `WECHAT_EVENT_TOKEN`), the OpenAPI document at
 * `/openapi.json` and its page at `/docs`. JSON errors everywhere.
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
  app.onError(errorHandler(options.log ? { log: options.log } : {}))
  app.notFound(() => {
    throw new WxaAuthError('NOT_FOUND')
  })

  let document: OpenApiDocument | undefined
  const openapi = () => (document ??= openApiDocument(app, { title: 'wxa-auth', version: VERSION }))
  app.get('/openapi.json', (c) => c.json(openapi()))
  app.get('/docs', (c) => c.html(docsPage(openapi())))

  app.get(
    '/healthz',
    describe({
      tag: 'health',
      summary: 'Liveness',
      auth: false,
      response: HealthResponse,
      errors: [],
    }),
    (c) => c.json({ ok: true as const }),
  )
  app.get('/healthz', (c) => c.json({ ok: true }))
  // WeChat's pushes carry no token: mounted before the session middleware.
  app.route('/wechat', wechatEventRoutes(options))
  app.use(wxaSession(options))
  app.route('/auth', authRoutes(options))
  app.route('/auth', wechatDataRoutes(options))
  app.route('/me', meRoutes<User>())
  return app
}
