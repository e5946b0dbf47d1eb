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

/** `db` with the rows each batch writes (what D1 bills, index entries included) added to `rows.written`. */
function billed(rows: { written: number }): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'batch')
        return async (list: D1PreparedStatement[]) => {
          const results = await target.batch(list)
          for (const result of results) rows.written += result.meta.rows_written
          return results
        }
      const value = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

describe('the rows D1 bills a login', () => {
  it('a new identity 2, an unchanged one written less than a day ago none, an audit record 3', async () => {
    const rows = { written: 0 }
    const [dir, log] = [d1Directory(billed(rows)), d1Audit(billed(rows), { retentionDays: 180 })]
    const uid = `u-bill-${crypto.randomUUID()}`
    const entry = {
      uid,
      platform: 'wechat' as const,
      appId: 'wx0000000000test1',
      openid: newOpenid('bill'),
      updatedAt: 1_800_000_000,
    }
    await dir.get(uid) // the schema, made once per isolate
    rows.written = 0
    expect(await dir.put(entry)).toBe(true)
    expect(rows.written).toBe(2) // the row and its `uid` index entry
    rows.written = 0
    expect(await dir.put({ ...entry, updatedAt: entry.updatedAt + 23 * 3600 })).toBe(true)
    expect(rows.written).toBe(0)
    expect((await dir.get(uid))?.identities[0]?.updatedAt).toBe(entry.updatedAt)
    expect(await dir.put({ ...entry, updatedAt: entry.updatedAt + 24 * 3600 })).toBe(true)
    expect((await dir.get(uid))?.identities[0]?.updatedAt).toBe(entry.updatedAt + 24 * 3600)
    expect(
      await dir.put({ ...entry, unionid: 'un-bill', updatedAt: entry.updatedAt + 24 * 3600 + 1 }),
    ).toBe(true)
    expect((await dir.get(uid))?.identities[0]?.unionid).toBe('un-bill')
    rows.written = 0
    await log.append([{ at: Date.now(), type: 'login', uid, actor: 'user' }])
    expect(rows.written).toBe(2) // the row and (uid, at): logins are not in the type index
    rows.written = 0
    await log.append([{ at: Date.now(), type: 'ban', uid, actor: 'operator:k1' }])
    expect(rows.written).toBe(3) // and (type, at)
  })

  it('a login record takes at most 350 bytes of D1, an identity at most 220 (the sizing pages)', async () => {
    const size = async () => (await db.prepare('SELECT 1').run()).meta.size_after
    await d1Directory(db).get('u-size') // the schema
    const N = 2_000
    const at = Date.now()
    const before = await size()
    for (let i = 0; i < N; i += 100) {
      await audit.append(
        Array.from({ length: 100 }, (_, j) => ({
          at: at + i + j,
          type: 'login' as const,
          uid: `u_${crypto.randomUUID().replaceAll('-', '').slice(0, 22)}`,
          actor: 'user',
          detail: {
            platform: 'wechat',
            app: 'wx0000000000test1',
            kind: 'code',
            session: 'x'.repeat(43),
            device: 'ios iOS 17.2 iPhone iPhone 15',
            address: '198.51.100.4',
          },
        })),
      )
    }
    const perRecord = ((await size()) - before) / N
    const middle = await size()
    for (let i = 0; i < N; i++) {
      await directory.put({
        uid: `u_${crypto.randomUUID().replaceAll('-', '').slice(0, 22)}`,
        platform: 'wechat',
        appId: 'wx0000000000test1',
        openid: `o${crypto.randomUUID().replaceAll('-', '').slice(0, 27)}`,
        updatedAt: 1_800_000_000,
      })
    }
    const perIdentity = ((await size()) - middle) / N
    console.log(
      `D1 bytes: ${perRecord.toFixed(0)} per login record, ${perIdentity.toFixed(0)} per identity`,
    )
    expect(perRecord).toBeLessThanOrEqual(350)
    // Random openids fill the key's pages unevenly: 193 to 205 bytes over runs.
    expect(perIdentity).toBeLessThanOrEqual(220)
  })

  it('every lookup of the directory and the log reads an index or the key, never the whole table', async () => {
    await d1Directory(db).get('u-plan') // the schema
    const plan = async (sql: string) => {
      const { results } = await db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all<{ detail: string }>()
      return results.map((row) => row.detail).join('; ')
    }
    const cases: [string, RegExp][] = [
      ["SELECT uid FROM wxa_directory WHERE openid = 'o' AND app_id = 'a'", /USING PRIMARY KEY/],
      ["SELECT uid FROM wxa_directory WHERE openid = 'o'", /USING PRIMARY KEY/],
      ["SELECT uid FROM wxa_directory WHERE unionid = 'u'", /USING .*INDEX wxa_directory_unionid/],
      ["SELECT * FROM wxa_directory WHERE uid IN ('u')", /USING .*INDEX wxa_directory_uid/],
      ["SELECT uid FROM wxa_phones WHERE hash = 'h'", /USING .*INDEX wxa_phones_hash/],
      [
        'SELECT * FROM wxa_audit WHERE at >= 1 ORDER BY at, id LIMIT 5',
        /USING PRIMARY KEY \(at>\?\)/,
      ],
      [
        "SELECT * FROM wxa_audit WHERE at >= 1 AND uid = 'u' ORDER BY at, id",
        /INDEX wxa_audit_uid_at/,
      ],
      [
        "SELECT * FROM wxa_audit WHERE at >= 1 AND type = 'ban' AND type NOT IN ('login', 'refresh') ORDER BY at, id",
        /INDEX wxa_audit_type_at/,
      ],
      [
        "SELECT * FROM wxa_audit WHERE at >= 1 AND type = 'login' ORDER BY at, id",
        /USING PRIMARY KEY/,
      ],
    ]
    for (const [sql, expected] of cases) expect(await plan(sql), sql).toMatch(expected)
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
