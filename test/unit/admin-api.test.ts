// The operators' API over the in-memory runtime (its directory and audit log
// are real adapters of the library), driven over HTTP like the console: find
// by each key, view, what the audit log says of each operator action, an
// operator's deletion against a user's own, the audit log as JSON and NDJSON,
// and the user's own copy. A platform of this test answers codes `code-<openid>`.
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import type { StoredAuditRecord } from '../../src/operators/ports'
import { PLATFORMS } from '../../src/platforms/index'
import {
  AuditResponse,
  BanResponse,
  UserResponse,
  UsersResponse,
} from '../../src/routes/admin-schemas'
import { AccountExportResponse } from '../../src/routes/schemas'
import { memoryRuntime } from '../../src/runtime/memory/index'
import { example, secret } from './example-platform'

const KEY = 'cS3n1XzV8qL0mT5wR9pB2dK7hF4gJ6aY'

function setup() {
  const runtime = memoryRuntime({
    JWT_SECRET: secret(),
    STORAGE_SECRET: secret(),
    EXAMPLE_APP_ID: 'ex-app',
    ADMIN_KEYS: `ops:${KEY}`,
  })
  const app = createApp({ runtime, platforms: [...PLATFORMS, example] })
  const parts = runtime.parts({} as never)
  const call = async (
    method: string,
    path: string,
    {
      json,
      token,
      key,
      headers = {},
    }: { json?: unknown; token?: string; key?: string; headers?: Record<string, string> } = {},
  ) => {
    const res = await app.request(path, {
      method,
      headers: {
        ...(json !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(token ? { Authorization: `JWT ${token}` } : {}),
        ...(key ? { Authorization: `Bearer ${key}` } : {}),
        ...headers,
      },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    })
    const text = await res.text()
    let body: any
    try {
      body = JSON.parse(text)
    } catch {}
    return { status: res.status, body, text, headers: res.headers }
  }
  const admin = (method: string, path: string, json?: unknown) =>
    call(method, `/admin/api${path}`, { key: KEY, ...(json !== undefined ? { json } : {}) })
  const login = async (openid: string, extra: object = {}) => {
    const res = await call('POST', '/auth/login', { json: { code: `code-${openid}`, ...extra } })
    expect(res.status, res.text).toBe(200)
    return res.body as { token: string; refreshToken: string; user: { id: string } }
  }
  /** Every record of the log, once the writes in flight settled. */
  const records = async (): Promise<StoredAuditRecord[]> => {
    await new Promise((resolve) => setTimeout(resolve, 5))
    const audit = parts.audit?.({ retentionDays: 180 })
    return (await audit?.query({}, { limit: 100 }))?.records ?? []
  }
  return { app, call, admin, login, records, parts }
}

describe('finding users', () => {
  it('by user id, openid, unionid and phone number as typed; nothing once deleted', async () => {
    const { admin, login } = setup()
    const { user } = await login('alice', { phoneCode: 'phone-13800138000' })
    await login('bob')
    for (const q of [user.id, 'alice', 'un-code-alice', '+86 138 0013 8000', '13800138000']) {
      const res = await admin('GET', `/users?q=${encodeURIComponent(q)}`)
      expect(res.status, res.text).toBe(200)
      v.parse(UsersResponse, res.body)
      expect(res.body, q).toEqual({
        users: [
          {
            uid: user.id,
            identities: [
              { platform: 'example', appId: 'ex-app', openid: 'alice', unionid: 'un-code-alice' },
            ],
            phone: true,
          },
        ],
      })
    }
    expect((await admin('GET', '/users?q=nobody')).body).toEqual({ users: [] })
    expect((await admin('DELETE', `/users/${user.id}`)).body).toEqual({ ok: true })
    for (const q of [user.id, 'alice', 'un-code-alice', '13800138000']) {
      expect((await admin('GET', `/users?q=${q}`)).body, q).toEqual({ users: [] })
    }
  })

  it('pages with a cursor; refuses a query or a page out of bounds', async () => {
    const { admin, login } = setup()
    const ids = [
      (await login('p1', { phoneCode: 'phone-13700137000' })).user.id,
      (await login('p2', { phoneCode: 'phone-13700137000' })).user.id,
      (await login('p3', { phoneCode: 'phone-13700137000' })).user.id,
    ].sort()
    const seen: string[] = []
    let cursor: string | undefined
    do {
      const res = await admin(
        'GET',
        `/users?q=13700137000&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      )
      expect(res.status, res.text).toBe(200)
      seen.push(...res.body.users.map((u: { uid: string }) => u.uid))
      cursor = res.body.cursor
    } while (cursor)
    expect(seen).toEqual(ids)
    for (const path of [
      '/users',
      '/users?q=',
      `/users?q=${'x'.repeat(257)}`,
      '/users?q=x&limit=0',
      '/users?q=x&limit=101',
      '/users?q=x&limit=two',
      '/users?q=x&cursor=%%%',
    ]) {
      const res = await admin('GET', path)
      expect([res.status, res.body?.error?.code], path).toEqual([400, 'INVALID_REQUEST'])
    }
  })
})

describe('a user as an operator sees them', () => {
  it('identities, devices, profile, ban and the latest audit records; 404 for no one', async () => {
    const { admin, login, call } = setup()
    const { user, token } = await login('carol')
    await call('PUT', '/auth/profile', { token, json: { nickname: 'Carol' } })
    const res = await admin('GET', `/users/${user.id}`)
    expect(res.status, res.text).toBe(200)
    v.parse(UserResponse, res.body)
    expect(res.body).toMatchObject({
      uid: user.id,
      identities: [{ platform: 'example', appId: 'ex-app', openid: 'carol' }],
      profile: { nickname: 'Carol', avatarUrl: null },
      ban: null,
    })
    expect(res.body.devices).toHaveLength(1)
    expect(res.body.audit.map((r: StoredAuditRecord) => r.type)).toContain('login')
    const ban = await admin('POST', `/users/${user.id}/ban`, { reason: 'spam' })
    v.parse(BanResponse, ban.body)
    expect((await admin('GET', `/users/${user.id}`)).body).toMatchObject({
      devices: [],
      ban: { reason: 'spam', by: 'operator:ops' },
    })
    const missing = await admin('GET', '/users/u_nobody')
    expect([missing.status, missing.body.error.code]).toEqual([404, 'USER_NOT_FOUND'])
    // Not a user id at all (as a login takes them): refused before any store is asked.
    const malformed = encodeURIComponent('x'.repeat(129))
    for (const [method, path] of [
      ['GET', `/users/${malformed}`],
      ['POST', `/users/${malformed}/logout`],
      ['DELETE', `/users/${malformed}/ban`],
      ['DELETE', `/users/a%20b/sessions/${'s'.repeat(43)}`],
      ['DELETE', `/users/${malformed}`],
    ] as const) {
      const res = await admin(method, path)
      expect([res.status, res.body.error.code], path).toEqual([404, 'USER_NOT_FOUND'])
    }
  })
})

describe('the audit log of operator actions', () => {
  it('names the operator by kid for each action; never the key, never a searched phone number', async () => {
    const { admin, login, records, call } = setup()
    const { user } = await login('dave', { phoneCode: 'phone-13600136000' })
    const second = await login('dave')
    await admin('GET', '/users?q=136%200013%206000')
    await admin('GET', `/users/${user.id}`)
    await admin('POST', `/users/${user.id}/ban`, {
      reason: 'fraud',
      until: Math.floor(Date.now() / 1000) + 600,
    })
    await admin('DELETE', `/users/${user.id}/ban`)
    await login('dave')
    const device = (await admin('GET', `/users/${user.id}`)).body.devices[0].id
    await admin('DELETE', `/users/${user.id}/sessions/${device}`)
    await admin('POST', `/users/${user.id}/logout`)
    await admin('DELETE', `/users/${user.id}`)
    const all = await records()
    const byOperator = all.filter((r) => r.actor === 'operator:ops')
    expect(byOperator.map((r) => [r.type, r.detail?.action ?? null])).toEqual([
      ['admin', 'users.search'],
      ['admin', 'user.view'],
      ['ban', null],
      ['unban', null],
      ['admin', 'user.view'],
      ['admin', 'session.end'],
      ['admin', 'logout.all'],
      ['account.deleted', null],
    ])
    expect(byOperator.find((r) => r.type === 'ban')).toMatchObject({
      uid: user.id,
      detail: { reason: 'fraud', sessionsEnded: 2 },
    })
    const text = JSON.stringify(all)
    const refused = await call('GET', '/admin/api/audit', { key: `${KEY.slice(1)}x` })
    expect(refused.status).toBe(401)
    expect((await records()).at(-1)).toMatchObject({
      type: 'admin',
      actor: 'system',
      detail: { action: 'key.refused' },
    })
    expect(JSON.stringify(await records())).not.toContain(`${KEY.slice(1)}x`)
    for (const secret of [KEY, '13600136000', '136 0013 6000', second.token, second.refreshToken]) {
      expect(text).not.toContain(secret)
    }
  })

  it('reads filtered pages as JSON, and all of it as NDJSON (Accept or format)', async () => {
    const { admin, login, call, records } = setup()
    const { user } = await login('erin')
    await login('frank')
    await admin('POST', `/users/${user.id}/logout`)
    const all = await records()
    const mine = await admin('GET', `/audit?user=${user.id}`)
    v.parse(AuditResponse, mine.body)
    expect(mine.body.records.every((r: StoredAuditRecord) => r.uid === user.id)).toBe(true)
    expect(mine.body.records.length).toBeGreaterThanOrEqual(2)
    const logins = await admin('GET', '/audit?type=login&limit=1')
    expect(logins.body.records).toHaveLength(1)
    expect(logins.body.records[0].type).toBe('login')
    expect(logins.body.cursor).toEqual(expect.any(String))
    const next = await admin('GET', `/audit?type=login&limit=1&cursor=${logins.body.cursor}`)
    expect(next.body.records[0].id).not.toBe(logins.body.records[0].id)
    const future = await admin('GET', `/audit?since=${Date.now() + 60_000}`)
    expect(future.body).toEqual({ records: [] })
    for (const res of [
      await call('GET', '/admin/api/audit', {
        key: KEY,
        headers: { Accept: 'application/x-ndjson' },
      }),
      await call('GET', '/admin/api/audit?format=ndjson', { key: KEY }),
    ]) {
      expect(res.status).toBe(200)
      expect(res.headers.get('Content-Type')).toBe('application/x-ndjson')
      const lines = res.text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line))
      // Everything up to the export itself, oldest first.
      expect(lines.slice(0, all.length)).toEqual(all)
    }
    for (const path of ['/audit?type=nope', '/audit?since=yesterday', '/audit?format=xml']) {
      const res = await admin('GET', path)
      expect([res.status, res.body.error.code], path).toEqual([400, 'INVALID_REQUEST'])
    }
  })
})

describe("an operator's deletion equals the user's own", () => {
  it('leaves the same nothing: directory, identities, sessions, profile', async () => {
    const { admin, login, call, parts } = setup()
    const remains = async (uid: string, openid: string) => ({
      directory: await parts.directory?.get(uid),
      found: (await admin('GET', `/users?q=${openid}`)).body,
      view: (await admin('GET', `/users/${uid}`)).status,
      identities: (await parts.kv.list('identity:')).filter((key) => key.endsWith(`:${openid}`)),
      unionids: (await parts.kv.list('unionid:')).filter((key) => key.includes(openid)),
    })
    const self = await login('grace', { phoneCode: 'phone-13500135000' })
    const other = await login('heidi', { phoneCode: 'phone-13400134000' })
    for (const { token } of [self, other]) {
      await call('PUT', '/auth/profile', { token, json: { nickname: 'Someone' } })
    }
    expect((await remains(self.user.id, 'grace')).identities).toHaveLength(1)
    const own = await call('DELETE', '/auth/account', {
      token: self.token,
      json: { code: 'code-grace' },
    })
    expect(own.status, own.text).toBe(200)
    expect((await admin('DELETE', `/users/${other.user.id}`)).body).toEqual({ ok: true })
    const left = await remains(self.user.id, 'grace')
    expect(left).toEqual({
      directory: null,
      found: { users: [] },
      view: 404,
      identities: [],
      unionids: [],
    })
    expect(await remains(other.user.id, 'heidi')).toEqual(left)
    const me = await call('GET', '/me', { token: other.token })
    expect([me.status, me.body.error.code]).toEqual([401, 'SESSION_EXPIRED'])
    // A new login is a new start: no profile, no ban.
    const back = await login('heidi')
    expect((await call('GET', '/auth/profile', { token: back.token })).body).toEqual({
      profile: { nickname: null, avatarUrl: null },
    })
  })
})

describe("the user's own copy", () => {
  it('answers identities without session keys, devices, profile, session data and their own audit records', async () => {
    const { login, call } = setup()
    const { token, user } = await login('ivan')
    await login('judy')
    await call('PATCH', '/me/session', { token, json: { cart: 3 } })
    const res = await call('GET', '/auth/account/export', { token })
    expect(res.status, res.text).toBe(200)
    v.parse(AccountExportResponse, res.body)
    expect(res.body).toMatchObject({
      uid: user.id,
      identities: [
        { platform: 'example', appId: 'ex-app', openid: 'ivan', unionid: 'un-code-ivan' },
      ],
      profile: { nickname: null, avatarUrl: null },
      session: { cart: 3 },
      ban: null,
    })
    expect(res.body.devices).toEqual([expect.objectContaining({ current: true })])
    expect(res.body.audit.map((r: { type: string }) => r.type)).toContain('login')
    expect(res.text).not.toContain('judy')
    expect(res.text).not.toMatch(/session_?key/i)
    expect(res.headers.get('Cache-Control')).toBe('no-store')
    const anonymous = await call('GET', '/auth/account/export')
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'AUTH_REQUIRED'])
  })
})
