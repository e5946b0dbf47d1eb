import type { Env, MiddlewareHandler } from 'hono'
import { WxaAuthError } from './errors'
import type { DefaultUser } from './hooks'
import type { WxaEnv } from './middleware/session'
import { describe } from './openapi/describe'
import { type OpenApiDocument, openApiDocument } from './openapi/document'
import { docsPage } from './openapi/page'
import type { WxaAuthOptions } from './options'
import { meRoutes } from './routes/me'
import { readiness } from './routes/ready'
import { HealthResponse, NotReadyResponse, ReadyResponse } from './routes/schemas'
import { Hono } from './util/hono'
import { VERSION } from './version'
import { wxaAuth } from './wxa-auth'

/**
 * The whole wxa-auth app: `/healthz` (liveness), `/readyz` (the configuration), `/auth/*`, the protected examples
 * `GET /me` and `PATCH /me/session`, the operators' API at `/admin/api` (with
 * `ADMIN_KEYS`), WeChat's message push at
 * `/wechat/events` (with `WECHAT_EVENT_TOKEN`), the OpenAPI document at
 * `/openapi.json` and its page at `/docs`. JSON errors everywhere.
 *
 * @example
 * ```ts
 * import { createApp } from 'wxa-auth'
 * import { cloudflare } from 'wxa-auth/cloudflare'
 * export default createApp({ runtime: cloudflare() })
 * ```
 */
export function createApp<User extends { id: string } = DefaultUser, E extends Env = Env>(
  options: WxaAuthOptions<User, E>,
) {
  const auth = wxaAuth(options)
  const app = new Hono<WxaEnv<User, E>>()
  app.onError(auth.onError)
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
  app.get(
    '/readyz',
    describe({
      tag: 'health',
      summary: 'Readiness',
      description:
        'Whether the configuration is complete (variables, secrets, bindings) and, on Node, Redis answers a PING; 503 names what is at fault, never its value. /healthz only says the server runs.',
      auth: false,
      response: ReadyResponse,
      errors: [],
      answers: { 503: { description: 'Not ready', response: NotReadyResponse } },
    }),
    readiness(auth.config),
  )
  // The platforms' routes (WeChat's pushes) carry no token: mounted before the session middleware.
  app.route('/', auth.platforms as unknown as Hono<WxaEnv<User, E>>)
  // The operators' API carries an operator key, not a token; same origin only (no CORS).
  app.route('/admin', auth.admin as unknown as Hono<WxaEnv<User, E>>)
  app.use(auth.cors as unknown as MiddlewareHandler<WxaEnv<User, E>>)
  app.use(auth.middleware)
  app.route('/auth', auth.routes)
  app.route('/me', meRoutes<User>() as unknown as Hono<WxaEnv<User, E>>)
  return app
}
