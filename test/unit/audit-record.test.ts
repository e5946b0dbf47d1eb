// recordAudit: the one way flows write the audit log. It never throws, never
// makes the answer wait, and counts what it lost for /readyz.
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { recordAudit } from '../../src/operators/audit'
import type { AuditLog } from '../../src/operators/ports'
import { memoryRuntime } from '../../src/runtime/memory/index'
import type { WxaRuntime } from '../../src/runtime/runtime'

const secret = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
const vars = () => ({
  JWT_SECRET: secret(),
  STORAGE_SECRET: secret(),
  WECHAT_APP_ID: 'wxapp',
  WECHAT_APP_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex'),
})

/** The memory runtime with `audit` in place of its audit log. */
const withAudit = (audit: AuditLog): WxaRuntime => {
  const runtime = memoryRuntime(vars())
  return { parts: (c) => ({ ...runtime.parts(c), audit: () => audit }) }
}

const broken: AuditLog = {
  append: () => Promise.reject(new Error('the store is gone')),
  query: () => Promise.reject(new Error('the store is gone')),
  purge: () => Promise.reject(new Error('the store is gone')),
}

describe('recordAudit', () => {
  it('does nothing without an audit log', async () => {
    await expect(
      recordAudit({ config: { audit: undefined }, log: console }, { type: 'login', actor: 'user' }),
    ).resolves.toBeUndefined()
  })

  it('stamps the flow’s clock, in milliseconds', async () => {
    const runtime = memoryRuntime(vars())
    const app = createApp({ runtime })
    expect((await app.request('/readyz')).status).toBe(200)
    const log = runtime.parts({} as never).audit?.({ retentionDays: 180 }) as AuditLog
    await recordAudit(
      { config: { audit: log }, log: console, now: 1_900_000_000 },
      { type: 'logout', uid: 'u1', actor: 'user' },
    )
    const { records } = await log.query({ uid: 'u1' }, { limit: 10 })
    expect(records).toMatchObject([{ at: 1_900_000_000_000, type: 'logout', uid: 'u1' }])
  })

  it('never throws, logs the loss without the record, and /readyz counts it (still 200)', async () => {
    const app = createApp({ runtime: withAudit(broken) })
    const ready = await app.request('/readyz')
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ ok: true, audit: { lost: 0 } })
    const errors: string[] = []
    const log = { error: (m: string) => errors.push(m), warn: () => {} }
    const throwing: AuditLog = {
      ...broken,
      append: () => {
        throw new Error('thrown at once')
      },
    }
    await recordAudit(
      { config: { audit: broken }, log },
      { type: 'login', uid: 'secret-uid', actor: 'user', detail: { address: '203.0.113.9' } },
      { type: 'refresh', uid: 'secret-uid', actor: 'user' },
    )
    await recordAudit({ config: { audit: throwing }, log }, { type: 'logout', actor: 'user' })
    expect(errors).toHaveLength(2)
    expect(errors[0]).toContain('login, refresh')
    expect(errors.join('\n')).not.toContain('secret-uid')
    expect(errors.join('\n')).not.toContain('203.0.113.9')
    expect(await (await app.request('/readyz')).json()).toEqual({ ok: true, audit: { lost: 2 } })
  })
})

describe('AUDIT_RETENTION_DAYS', () => {
  it('is refused below 180 days, naming the law', async () => {
    const app = createApp({ runtime: memoryRuntime({ ...vars(), AUDIT_RETENTION_DAYS: '90' }) })
    const res = await app.request('/readyz')
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ ok: false, failing: 'AUDIT_RETENTION_DAYS' })
  })

  it('takes more than 180 days', async () => {
    const app = createApp({ runtime: memoryRuntime({ ...vars(), AUDIT_RETENTION_DAYS: '400' }) })
    expect((await app.request('/readyz')).status).toBe(200)
  })
})
