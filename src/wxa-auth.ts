import type { Context, Env, MiddlewareHandler } from 'hono'
import type { WxaConfig } from './config'
import type { Logger } from './errors'
import { resetSessionKey } from './flows/data'
import type { DefaultUser } from './hooks'
import { corsMiddleware } from './middleware/cors'
import { errorHandler } from './middleware/on-error'
import { requireLogin } from './middleware/require-login'
import { sessionMiddleware, type WxaEnv } from './middleware/session'
import { resolveOptions, type WxaAuthOptions } from './options'
import { adminRoutes } from './routes/admin'
import { authRoutes } from './routes/auth'
import { dataRoutes } from './routes/data'
import { flowContext } from './routes/flow-context'
import { platformAuthRoutes, platformRoutes } from './routes/platforms'
import { profileRoutes } from './routes/profile'
import { scanRoutes } from './routes/scan'
import { Hono } from './util/hono'

/** What {@link wxaAuth} makes: one set of options, resolved once, behind all of it. */
export interface WxaAuth<User extends { id: string }, E extends Env> {
  /** Puts `c.var.user` and `c.var.session` on every request; never rejects. */
  middleware: MiddlewareHandler<WxaEnv<User, E>>
  /** Turns an anonymous request into a 401 that says why. */
  requireLogin: MiddlewareHandler<WxaEnv<User, E>>
  /**
   * `/login`, `/refresh`, `/logout`, `/logout-all`, `/account`, `/sessions`,
   * `/sessions/:id`, `/decrypt`, `/phone`: mount them at `/auth`, behind `middleware`.
   */
  routes: Hono<WxaEnv<User, E>>
  /**
   * Every platform's own routes under `/<platform>` (WeChat's message push at
   * `/wechat/events`): mount them at `/`, before `middleware`.
   */
  platforms: Hono<E>
  /**
   * WeChat's message push, `GET` and `POST /events`: mount them at `/wechat`,
   * before `middleware`. WeChat's routes alone, as in 0.3; `platforms` has them too.
   */
  events: Hono<E>
  /**
   * The operators' API (`/api/*`): mount it at `/admin`, before `middleware`.
   * Without `ADMIN_KEYS` all of it answers 404.
   */
  admin: Hono<E>
  /**
   * CORS for the `CORS_ORIGINS` (H5 builds), which `routes` already carry:
   * `app.use(auth.cors)` in front of your own routes gives them the same.
   * Without `CORS_ORIGINS` it adds no header.
   */
  cors: MiddlewareHandler<E>
  /** The `onError` that answers wxa-auth's JSON errors and logs the rest. */
  onError: (err: Error, c: Context) => Response
  /**
   * Has the platform issue a user a new session_key (a leaked one decrypts
   * everything the mini program sends) and keeps it. WeChat only.
   */
  resetSessionKey(c: Context<E>, user: { appId: string; openid: string }): Promise<void>
  /** The configuration of a request's runtime. @internal */
  config(c: Context<E>): WxaConfig
  /** Where detail for operators goes. @internal */
  log: Logger
}

/**
 * wxa-auth for a Hono app: the session middleware, the guard, the `/auth`
 * routes and WeChat's push routes, from one set of options resolved once.
 * Generic over your app's env, so your own bindings and user type need no casts.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { wxaAuth, type WxaEnv } from 'wxa-auth'
 * import { cloudflare, type WxaBindings } from 'wxa-auth/cloudflare'
 *
 * type AppEnv = WxaEnv<DefaultUser, { Bindings: WxaBindings }>
 * const auth = wxaAuth<DefaultUser, AppEnv>({ runtime: cloudflare() })
 * const app = new Hono<AppEnv>()
 * app.onError(auth.onError)
 * app.route('/', auth.platforms)
 * app.use(auth.middleware)
 * app.route('/auth', auth.routes)
 * app.get('/me', auth.requireLogin, (c) => c.json(c.var.user))
 * ```
 */
export function wxaAuth<User extends { id: string } = DefaultUser, E extends Env = Env>(
  options: WxaAuthOptions<User, E>,
): WxaAuth<User, E> {
  const resolved = resolveOptions(options)
  const cors = corsMiddleware(resolved)
  // CORS first, so that a preflight is answered before any route's checks.
  const routes = new Hono()
  routes.use(cors)
  routes.route('/', authRoutes(resolved))
  routes.route('/', dataRoutes(resolved))
  routes.route('/', profileRoutes(resolved))
  routes.route('/', scanRoutes(resolved))
  routes.route('/', platformAuthRoutes(resolved))
  const own = platformRoutes(resolved)
  const platforms = new Hono()
  for (const [name, routes] of own) platforms.route(`/${name}`, routes)
  // Typed for the host's env at this edge; inside, wxa-auth reads only its own variables.
  return {
    middleware: sessionMiddleware(resolved) as unknown as MiddlewareHandler<WxaEnv<User, E>>,
    requireLogin: requireLogin() as unknown as MiddlewareHandler<WxaEnv<User, E>>,
    routes: routes as unknown as Hono<WxaEnv<User, E>>,
    platforms: platforms as unknown as Hono<E>,
    events: (own.get('wechat') ?? new Hono()) as unknown as Hono<E>,
    admin: adminRoutes(resolved) as unknown as Hono<E>,
    cors: cors as unknown as MiddlewareHandler<E>,
    onError: errorHandler({ log: resolved.log }),
    resetSessionKey: (c, user) => resetSessionKey(flowContext(resolved, c), user),
    config: resolved.config,
    log: resolved.log,
  }
}
