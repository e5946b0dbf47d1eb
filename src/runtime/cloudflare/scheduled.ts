import { auditRetentionDaysOf } from '../../config'
import type { WxaBindings } from '../../env'
import { DAY_MS } from '../../operators/retention'
import { d1Audit } from './d1'

/**
 * A Worker's `scheduled` handler that deletes the audit records past
 * `AUDIT_RETENTION_DAYS` from D1 (`DB`): the log purges itself after writes
 * too, at most hourly per isolate, but a deployment with no traffic keeps
 * what is past retention until a cron runs this. Without `DB` it does nothing.
 *
 * @example
 * ```ts
 * export default Object.assign(createApp({ runtime: cloudflare() }), { scheduled: auditPurge() })
 * // wrangler.toml: [triggers] crons = ["23 * * * *"]
 * ```
 */
export function auditPurge() {
  return async function scheduled(
    _controller: ScheduledController,
    env: WxaBindings,
    ctx: ExecutionContext,
  ): Promise<void> {
    if (!env.DB) return
    const days = auditRetentionDaysOf(env as unknown as Record<string, unknown>)
    const log = d1Audit(env.DB, { retentionDays: days })
    ctx.waitUntil(log.purge(Date.now() - days * DAY_MS))
  }
}
