import type { Context } from 'hono'
import { configSubject, type WxaConfig } from '../config'
import { isWxaAuthError } from '../errors'
import { auditLost } from '../operators/audit'

/**
 * `GET /readyz`: 200 `{ ok: true }` once the configuration of this request's
 * runtime is complete (variables, secrets, bindings, the session objects' RPC),
 * else 503 `{ ok: false, failing }` naming what is at fault and nothing of
 * its value. On Workers it calls nothing outside the Worker; on Node it
 * PINGs Redis (503 naming `REDIS_URL` while Redis does not answer) and
 * reports Redis's durability settings. With an audit log, `audit.lost` counts
 * the records this isolate or process could not write (still 200: the
 * requests they belonged to were answered). `/healthz` is liveness only.
 */
export function readiness(config: (c: Context) => WxaConfig) {
  return async function ready(c: Context) {
    let built: WxaConfig
    try {
      built = config(c)
    } catch (err) {
      if (!isWxaAuthError(err) || err.code !== 'CONFIG_INVALID') throw err
      const failing = configSubject(err.message) ?? 'configuration'
      return c.json({ ok: false as const, failing }, 503)
    }
    const health = await built.health?.()
    const redis = health?.redis && { redis: health.redis }
    const audit = built.audit && { audit: { lost: auditLost(built.audit) } }
    if (health && !health.ok) {
      return c.json(
        { ok: false as const, failing: health.failing ?? 'storage', ...redis, ...audit },
        503,
      )
    }
    return c.json({ ok: true as const, ...redis, ...audit })
  }
}
