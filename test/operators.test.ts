// The directory and the audit log of the Worker, in D1 (the `DB` binding of
// [env.dev]), driven as a client: the deployable Worker writes both at a
// login (the audit record under waitUntil), empties the directory at a
// deletion, and keeps answering when the audit log cannot be written.
import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { D1_SCHEMA, d1Audit, d1Directory } from '../src/runtime/cloudflare/d1'
import { auditPurge } from '../src/runtime/cloudflare/scheduled'
import { appWith, call, codeFor, login, newOpenid, testEnv, worker } from './helpers'

const db = testEnv.DB as D1Database
const directory = d1Directory(db)
const audit = d1Audit(db, { retentionDays: 180 })

/** The user's audit records once they are there (a write under waitUntil ends after the answer). */
async function recordsOf(uid: string, count: number) {
  for (let i = 0; i < 50; i++) {
    const { records } = await audit.query({ uid }, { limit: 100 })
    if (records.length >= count) return records
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return (await audit.query({ uid }, { limit: 100 })).records
}

describe('the Worker writes the directory and the audit log to D1', () => {
  it('a login: the identity in the directory, a login record with the client address', async () => {
    const openid = newOpenid('dir')
    const res = await call(
      'POST',
      '/auth/login',
      { json: { code: await codeFor(openid) }, headers: { 'CF-Connecting-IP': '198.51.100.4' } },
      worker,
    )
    expect(res.status, res.text).toBe(200)
    const uid = res.body.user.id as string
    expect(await directory.find({ openid }, { limit: 10 })).toMatchObject({
      users: [{ uid, identities: [{ openid, platform: 'wechat' }], phone: false }],
    })
    const [record] = await recordsOf(uid, 1)
    expect(record).toMatchObject({
      type: 'login',
      uid,
      actor: 'user',
      detail: { platform: 'wechat', kind: 'code', address: '198.51.100.4' },
    })
    expect(JSON.stringify(record)).not.toContain(res.body.token)
  })

  it('an account deletion leaves nothing of the user in the directory, and is recorded', async () => {
    const { openid, token, user } = await login(newOpenid('del'))
    expect(await directory.get(user.id)).not.toBeNull()
    const res = await call('DELETE', '/auth/account', {
      token,
      json: { code: await codeFor(openid) },
    })
    expect(res.status, res.text).toBe(200)
    expect(await directory.get(user.id)).toBeNull()
    expect(await directory.find({ openid }, { limit: 10 })).toEqual({ users: [] })
    const records = await recordsOf(user.id, 2)
    expect(records.map((r) => [r.type, r.actor])).toEqual([
      ['login', 'user'],
      ['account.deleted', 'user'],
    ])
  })
})

describe('an audit log that cannot be written', () => {
  it('fails no login; /readyz stays 200 and counts the lost records', async () => {
    const app = appWith() // an isolate of its own: its own count
    await login(newOpenid('pre'), app)
    expect((await call('GET', '/readyz', {}, app)).body).toEqual({ ok: true, audit: { lost: 0 } })
    // The audit table is gone from under the Worker: every write to it fails for real.
    await db.prepare('DROP TABLE wxa_audit').run()
    try {
      const { user } = await login(newOpenid('lost'), app)
      expect(await directory.get(user.id)).not.toBeNull()
      let ready = await call('GET', '/readyz', {}, app)
      for (let i = 0; i < 50 && ready.body.audit?.lost === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        ready = await call('GET', '/readyz', {}, app)
      }
      expect([ready.status, ready.body]).toEqual([200, { ok: true, audit: { lost: 1 } }])
    } finally {
      await db.batch(D1_SCHEMA.map((sql) => db.prepare(sql)))
    }
  })
})

describe('the Worker’s cron', () => {
  it('deletes the audit records past AUDIT_RETENTION_DAYS, and keeps the rest', async () => {
    const DAY = 24 * 60 * 60 * 1000
    const uid = newOpenid('cron')
    const old = Date.now() - 200 * DAY
    const recent = Date.now() - 100 * DAY
    // Written by logs of their time: their own hourly purge keeps them.
    await d1Audit(db, { retentionDays: 180, now: () => old }).append([
      { at: old, type: 'login', uid, actor: 'user' },
    ])
    await d1Audit(db, { retentionDays: 180, now: () => recent }).append([
      { at: recent, type: 'logout', uid, actor: 'user' },
    ])
    const then = d1Audit(db, { retentionDays: 180, now: () => old })
    expect((await then.query({ uid }, { limit: 10 })).records).toHaveLength(2)
    const ctx = createExecutionContext()
    await auditPurge()(createScheduledController({ cron: '23 * * * *' }), testEnv, ctx)
    await waitOnExecutionContext(ctx)
    expect((await then.query({ uid }, { limit: 10 })).records).toMatchObject([{ type: 'logout' }])
  })
})
