import { type Env, Hono, type Schema } from 'hono'
import { routePath } from 'hono/route'
import {
  DEFAULT_EMULATOR_PATH,
  EMULATOR_ORIGIN,
  type EmulatorBindings,
  type EmulatorClientOptions,
} from './client'
import { emulatorStub } from './stub'

/**
 * The emulator's control surface (`POST /code`, `/users/<openid>`, … as in the
 * README) as routes for a Hono app. Without the `WECHAT_EMULATOR` binding
 * (production) every route is the app's 404, so the routes may stay mounted.
 */
export function emulatorRoutes() {
  const routes = new Hono<{ Bindings: EmulatorBindings }>()
  // A wildcard, not a parameter matching `/`: a host app's routes under the
  // same path (the dev app's `/__emulator/events`) stay beside it in any router.
  routes.all('/*', (c) => {
    const route = c.req.path.slice(routePath(c).length - 1)
    if (!c.env?.WECHAT_EMULATOR || !route) return c.notFound()
    const url = new URL(c.req.url)
    const target = `${EMULATOR_ORIGIN}${DEFAULT_EMULATOR_PATH}/${route}${url.search}`
    return emulatorStub(c.env).fetch(new Request(target, c.req.raw))
  })
  return routes
}

/**
 * Mounts the emulator's control surface on `app` at `path`, where
 * {@link emulatorClient} and the README's curl calls find it.
 *
 * @param app the host app (its `onError`/`notFound` apply)
 * @param options `path`, default `/__emulator`
 * @example
 * ```ts
 * const app = new Hono<WxaEnv>()
 * mountEmulator(app) // POST /__emulator/code {"openid":"alice"} -> {"code"}
 * ```
 */
export function mountEmulator<E extends Env, S extends Schema, B extends string>(
  app: Hono<E, S, B>,
  { path = DEFAULT_EMULATOR_PATH }: EmulatorClientOptions = {},
): Hono<E, S, B> {
  app.route(path.replace(/\/+$/, ''), emulatorRoutes())
  return app
}
