import type { Context } from 'hono'
import type { WxaBindings } from '../../env'
import { WxaAuthError } from '../../errors'
import { storageFaults } from '../../operators/faults'
import type { RuntimeParts, WxaRuntime } from '../runtime'
import { durableAuthority, durableClaims } from './authority'
import { d1Audit, d1Directory } from './d1'
import { workersKv } from './kv'
import { r2Objects } from './r2'
import { bindingLimiter } from './rate-limit'

/** The names wxa-auth keeps secret: set with `wrangler secret put`, never in wrangler.toml. */
const SECRET_NAME = /(?:SECRETS?|TOKEN|KEYS?)$/

/** How a variable is set on Workers: a secret with wrangler, the rest in wrangler.toml. */
export const wranglerHowToSet = (name: string) =>
  SECRET_NAME.test(name)
    ? `Set it with \`wrangler secret put ${name}\` (locally: in .dev.vars).`
    : 'Set it in wrangler.toml [vars], and for `--env <name>` in [env.<name>.vars] as well: an environment does not inherit [vars].'

/**
 * Cloudflare Workers: sessions in the `UserSessions` Durable Object (binding
 * `USER_SESSIONS`, one object per user, the only writer), their read replica,
 * identities and access tokens in KV (binding `SESSIONS`), the rate limits
 * from Workers Rate Limiting (`LOGIN_RATE_LIMITER`, `USER_RATE_LIMITER`), the
 * directory and the audit log in D1 (`DB`, when bound), the variables from
 * `[vars]` and secrets. Read once per env (per isolate).
 *
 * @example
 * ```ts
 * export default createApp({ runtime: cloudflare() })
 * export { UserSessions } from 'wxa-auth/cloudflare'
 * ```
 */
export function cloudflare<E extends { Bindings: WxaBindings }>(): WxaRuntime<E> {
  const made = new WeakMap<object, RuntimeParts>()
  return {
    parts(c: Context<E>) {
      const env = c.env as WxaBindings
      let parts = made.get(env)
      if (parts) return parts
      if (!env?.SESSIONS) {
        throw new WxaAuthError(
          'CONFIG_INVALID',
          'The KV binding SESSIONS is missing (wrangler.toml).',
        )
      }
      if (!env.USER_SESSIONS) {
        throw new WxaAuthError(
          'CONFIG_INVALID',
          'The Durable Object binding USER_SESSIONS is missing (wrangler.toml, class UserSessions).',
        )
      }
      const authority = durableAuthority(env.USER_SESSIONS)
      parts = {
        key: env,
        vars: env as unknown as RuntimeParts['vars'],
        kv: workersKv(env.SESSIONS),
        authority: () => authority,
        objects: env.AVATARS ? r2Objects(env.AVATARS) : undefined,
        directory: env.DB ? storageFaults(d1Directory(env.DB)) : undefined,
        audit: env.DB
          ? (settings) => storageFaults(d1Audit(env.DB as D1Database, settings))
          : undefined,
        claims: durableClaims(env.USER_SESSIONS),
        rateLimits: {
          login: bindingLimiter(env.LOGIN_RATE_LIMITER),
          user: bindingLimiter(env.USER_RATE_LIMITER),
        },
        replica: true,
        howToSet: wranglerHowToSet,
      }
      made.set(env, parts)
      return parts
    },
  }
}
