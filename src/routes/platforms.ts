import { actOnUser, imageChecked } from '../flows/events'
import { limits } from '../middleware/rate-limit'
import type { ResolvedOptions } from '../options'
import type { PlatformRoutesContext } from '../platforms/platform'
import { Hono } from '../util/hono'
import { flowContext } from './flow-context'

/** What a platform's routes get: its apps and settings per request, and the flows' actions. */
function contextOf<User extends { id: string }>(
  resolved: ResolvedOptions<User>,
  name: string,
): PlatformRoutesContext<unknown> {
  return {
    request(c) {
      const config = resolved.config(c)
      const apps = new Map([...config.apps].filter(([, app]) => app.platform === name))
      const settings = config.platformSettings.get(name as never) ?? null
      return { apps, settings, now: resolved.now() }
    },
    log: resolved.log,
    act: (c, action) => actOnUser(flowContext(resolved, c), action),
    forget: (c, user) =>
      actOnUser(flowContext(resolved, c), { ...user, endSessions: true, forget: true }),
    imageChecked: (c, verdict) => imageChecked(flowContext(resolved, c), verdict),
  }
}

/**
 * The routes each platform declares (WeChat's message push), by platform:
 * each is served under `/<name>`, before the session middleware (a
 * platform's pushes carry no token). @internal
 */
export function platformRoutes<User extends { id: string }>(
  resolved: ResolvedOptions<User>,
): Map<string, Hono> {
  const mounted = new Map<string, Hono>()
  for (const platform of resolved.platforms) {
    if (!platform.routes) continue
    const routes = new Hono()
    platform.routes(routes, contextOf(resolved, platform.name))
    mounted.set(platform.name, routes)
  }
  return mounted
}

/**
 * The login routes each platform declares (WeChat's `/authorize`), each
 * under `/<name>`: mounted with the `/auth` routes, so served at
 * `/auth/<name>/…` behind CORS and the login rate limit. @internal
 */
export function platformAuthRoutes<User extends { id: string }>(
  resolved: ResolvedOptions<User>,
): Hono {
  const mounted = new Hono()
  const { loginLimit } = limits(resolved)
  for (const platform of resolved.platforms) {
    if (!platform.authRoutes) continue
    const routes = new Hono()
    routes.use(loginLimit as never)
    platform.authRoutes(routes, contextOf(resolved, platform.name))
    mounted.route(`/${platform.name}`, routes)
  }
  return mounted
}
