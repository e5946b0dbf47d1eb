import type { Context } from 'hono'
import type { WxaConfig } from '../config'
import type { Logger } from '../errors'
import type { DeviceInfo } from '../session/record'
import type { AuditLog, AuditRecord } from './ports'

/** Records lost per audit store in this isolate or process (a write that failed). */
const lost = new WeakMap<AuditLog, number>()

/** How many audit records this isolate or process could not write to `audit`, for `/readyz`. */
export const auditLost = (audit: AuditLog | undefined): number =>
  audit ? (lost.get(audit) ?? 0) : 0

/** What {@link recordAudit} needs of a flow (a `FlowContext`), or of a route. */
export interface AuditScope {
  config: Pick<WxaConfig, 'audit'>
  /** The request's context: its `executionCtx.waitUntil` keeps the write alive past the answer. */
  c?: Context | undefined
  log: Logger
  /** Unix seconds (the flow's clock); default: now. */
  now?: number | undefined
}

/** Whether the runtime has an execution context to wait on (Workers); Node has none. */
function waitUntil(c: Context | undefined, work: Promise<unknown>): boolean {
  try {
    const ctx = c?.executionCtx
    if (ctx && typeof ctx.waitUntil === 'function') {
      ctx.waitUntil(work)
      return true
    }
  } catch {}
  return false
}

/**
 * Records security events in the audit log, if one is configured. Never
 * throws and never makes the answer wait: on Workers the write runs under
 * `waitUntil`, elsewhere it runs on its own. A write that fails is counted
 * (`/readyz` reports `audit.lost`) and logged with the types of the records
 * and the store's error, nothing of the records.
 *
 * `at` defaults to the flow's clock. Put no secret, token, code or session key
 * in `detail`.
 *
 * @returns the write, settled whatever happens (tests may await it)
 */
export function recordAudit(
  scope: AuditScope,
  ...records: (Omit<AuditRecord, 'at'> & { at?: number | undefined })[]
): Promise<void> {
  const { audit } = scope.config
  if (!audit || !records.length) return Promise.resolve()
  const at = scope.now !== undefined ? scope.now * 1000 : Date.now()
  let work: Promise<void>
  try {
    work = audit
      .append(records.map((record) => ({ ...record, at: record.at ?? at })))
      .catch((err: unknown) => lose(scope, audit, records, err))
  } catch (err) {
    work = Promise.resolve(lose(scope, audit, records, err))
  }
  waitUntil(scope.c, work)
  return work
}

function lose(
  { log }: AuditScope,
  audit: AuditLog,
  records: readonly { type: string }[],
  err: unknown,
): void {
  lost.set(audit, auditLost(audit) + records.length)
  // The store's own words (no record is in them), without any credentials of a URL.
  const why =
    err instanceof Error
      ? `${err.name}: ${err.message.slice(0, 160).replace(/\/\/[^@\s/]*@/g, '//***@')}`
      : typeof err
  try {
    log.error(
      `wxa-auth: audit records lost (${records.map(({ type }) => type).join(', ')}): the audit store failed (${why})`,
    )
  } catch {}
}

const MAX_DETAIL = 120 // characters of a free-text detail (a device model), at most

/** `{ address }`: the client's address as the runtime knows it (else `CF-Connecting-IP`), when known. */
export function clientAddressOf(
  config: Pick<WxaConfig, 'clientAddress'>,
  c: Context | undefined,
): { address?: string } {
  try {
    const address = c && (config.clientAddress?.(c) ?? c.req.header('CF-Connecting-IP'))
    return address ? { address: address.slice(0, 64) } : {}
  } catch {
    return {}
  }
}

/** `{ device, door }` of a login's device hints: what it was, not its User-Agent in full. */
export function deviceSummary(device: DeviceInfo): { device?: string; door?: string } {
  const what = [device.platform, device.system, device.brand, device.model]
    .filter((part): part is string => typeof part === 'string' && part !== '')
    .join(' ')
    .slice(0, MAX_DETAIL)
  return { ...(what ? { device: what } : {}), ...(device.door ? { door: device.door } : {}) }
}
