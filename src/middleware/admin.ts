import type { Context, Env, MiddlewareHandler } from 'hono'
import { createMiddleware } from 'hono/factory'
import { WxaAuthError } from '../errors'
import { adminKeyId } from '../operators/admin-keys'
import { recordAudit } from '../operators/audit'
import type { ResolvedOptions } from '../options'
import { clientAddress, rateLimit } from './rate-limit'

/** What {@link adminAuth} puts on the context: the key id of the operator's key. */
export interface AdminVariables {
  operator: string
}

export interface AdminEnv extends Env {
  Variables: AdminVariables
}

const BEARER = /^Bearer +([^\s]+) *$/i

/**
 * Answers 404 `NOT_FOUND` for the whole `/admin` tree while `ADMIN_KEYS` is
 * unset, as if it did not exist.
 */
export function adminOnly(resolved: Pick<ResolvedOptions<{ id: string }>, 'config'>) {
  return createMiddleware(async function adminOnly(c, next) {
    if (!resolved.config(c).adminKeys.length) throw new WxaAuthError('NOT_FOUND')
    await next()
  })
}

/**
 * The operators' guard: `Authorization: Bearer <key>` with a key of
 * `ADMIN_KEYS`, compared in constant time (see `adminKeyId`); else 401
 * `ADMIN_KEY_INVALID` with `WWW-Authenticate: Bearer`. Every request counts
 * against the login limiter by client address (`admin:<address>`) before the
 * key is looked at, so past the limit (429) a guess learns nothing. A
 * refused key leaves an audit record with the client's address. Sets
 * `c.var.operator` to the key's id; the key itself is never logged.
 */
export function adminAuth(
  resolved: Pick<ResolvedOptions<{ id: string }>, 'config' | 'log'>,
): MiddlewareHandler<AdminEnv> {
  const { config, log } = resolved
  const address = (c: Context) => clientAddress(c, log, config(c).clientAddress)
  const limit = rateLimit({
    limiter: (c) => config(c).rateLimits.login,
    key: (c) => `admin:${address(c)}`,
    log,
  })
  return createMiddleware<AdminEnv>(async function adminAuth(c, next) {
    await limit(c, async () => {
      const presented = BEARER.exec(c.req.header('Authorization') ?? '')?.[1]
      const kid = presented ? await adminKeyId(config(c).adminKeys, presented) : undefined
      if (!kid) {
        // A key was tried and refused: on the record (where from), never what was sent.
        if (c.req.header('Authorization')) {
          void recordAudit(
            { config: config(c), c, log },
            {
              type: 'admin',
              actor: 'system',
              detail: { action: 'key.refused', address: address(c) },
            },
          )
        }
        throw new WxaAuthError('ADMIN_KEY_INVALID')
      }
      c.set('operator', kid)
      await next()
    })
  })
}
