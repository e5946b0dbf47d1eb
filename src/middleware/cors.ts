import type { MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import { createMiddleware } from 'hono/factory'
import type { WxaConfig } from '../config'
import type { ResolvedOptions } from '../options'

export const DEFAULT_CORS_MAX_AGE = 10 * 60 // 10 minutes, seconds: how long a browser keeps a preflight
/** What a browser page may read of an answer besides the safelisted headers: the SDK reads both. */
const EXPOSED = ['Retry-After', 'WWW-Authenticate']

/**
 * CORS for pages on other origins (Taro and uni-app H5 builds), opt in with
 * `CORS_ORIGINS`: exact origins only, each answered with itself; never `*`,
 * and never `Access-Control-Allow-Credentials` (the token travels in
 * `Authorization`, not in a cookie). Unset, it adds no header at all. It runs
 * once per request however often it is mounted (the factory's routes carry
 * it, and a host app may put it in front of its own routes too). Without a
 * usable configuration it steps aside and the route answers the error itself;
 * a preflight, which no route answers, gets that error (`CONFIG_INVALID`
 * naming a wrong `CORS_ORIGINS` entry) rather than a bare 404.
 */
export function corsMiddleware(resolved: Pick<ResolvedOptions<{ id: string }>, 'config'>) {
  const made = new WeakMap<WxaConfig, MiddlewareHandler>()
  const handled = new WeakSet<Request>()
  return createMiddleware(async function wxaCors(c, next) {
    if (handled.has(c.req.raw)) return next()
    handled.add(c.req.raw)
    let config: WxaConfig
    try {
      config = resolved.config(c)
    } catch (error) {
      if (c.req.method === 'OPTIONS') throw error
      return next()
    }
    const origins = config.corsOrigins
    if (origins.length === 0) return next()
    let handler = made.get(config)
    if (!handler) {
      handler = cors({
        origin: (origin) => (origins.includes(origin) ? origin : null),
        exposeHeaders: EXPOSED,
        maxAge: DEFAULT_CORS_MAX_AGE,
      })
      made.set(config, handler)
    }
    return handler(c, next)
  })
}
