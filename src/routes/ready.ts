import type { Context } from 'hono'
import type { WxaConfig } from '../config'
import { isWxaAuthError } from '../errors'

/**
 * What a `CONFIG_INVALID` message is about: the first variable or binding it
 * names (they are upper-case; the messages name the one at fault first), or
 * the wrangler.toml key. Never anything else of the message.
 */
const NAMED =
  /\b(?:[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]|SESSIONS|compatibility_date|new_sqlite_classes)\b/

/**
 * `GET /readyz`: 200 `{ ok: true }` once the configuration of this request's
 * runtime is complete (variables, secrets, bindings, the session objects' RPC),
 * else 503 `{ ok: false, failing }` naming what is at fault and nothing of
 * its value. It calls nothing outside the Worker. `/healthz` is liveness only.
 */
export function readiness(config: (c: Context) => WxaConfig) {
  return function ready(c: Context) {
    try {
      config(c)
    } catch (err) {
      if (!isWxaAuthError(err) || err.code !== 'CONFIG_INVALID') throw err
      const failing = NAMED.exec(err.message)?.[0] ?? 'configuration'
      return c.json({ ok: false as const, failing }, 503)
    }
    return c.json({ ok: true as const })
  }
}
