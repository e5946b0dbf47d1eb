// The flows write the directory and the audit log: driven over HTTP like a
// client, on the in-memory runtime, with a platform of this test whose codes
// are `code-<openid>` (as in platform-seam.test.ts). Then what the directory
// and the log hold is read back.
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { forgetAccount } from '../../src/flows/forget'
import { normalizePhone, phoneHash } from '../../src/operators/phone'
import type { AuditLog, Directory, StoredAuditRecord } from '../../src/operators/ports'
import { resolveOptions } from '../../src/options'
import { PLATFORMS } from '../../src/platforms/index'
import { flowContext } from '../../src/routes/flow-context'
import { memoryRuntime } from '../../src/runtime/memory/index'
import type { RuntimeParts, WxaRuntime } from '../../src/runtime/runtime'
import { example, secret } from './example-platform'

type Stores = { directory: Directory; audit: AuditLog }
type App = { request: (path: string, init?: RequestInit) => Response | Promise<Response> }

/** The app over the memory runtime, its directory and audit log, and `wrap` to change the parts. */
const storageSecret = secret()

function setup(wrap: (parts: RuntimeParts) => RuntimeParts = (parts) => parts) {
  const memory = memoryRuntime({
    JWT_SECRET: secret(),
    STORAGE_SECRET: storageSecret,
    EXAMPLE_APP_ID: 'ex-app',
  })
  let stores: Stores | undefined
  const runtime: WxaRuntime = {
    parts(c) {
      const parts = wrap(memory.parts(c))
      return parts
    },
  }
  const options = { runtime, platforms: [...PLATFORMS, example] }
  const app = createApp(options)
  /** A flow as a route of this app would run it (an operator's deletion, in tests of its own). */
  const flow = () => flowContext(resolveOptions(options), {} as never)
  const opened = () => {
    if (!stores) {
      const parts = memory.parts({} as never)
      stores = {
        directory: parts.directory as Directory,
        audit: parts.audit?.({ retentionDays: 180 }) as AuditLog,
      }
    }
    return stores
  }
  return { app, stores: opened, flow }
}

const post = (
  app: App,
  path: string,
  body: unknown,
  token?: string,
  headers: Record<string, string> = {},
) =>
  app.request(path, {
    method: path.startsWith('/auth/account') ? 'DELETE' : 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `JWT ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  })

interface LoggedIn {
  token: string
  refreshToken: string
  user: { id: string }
}

async function login(app: App, openid: string, extra: object = {}) {
  const res = await post(app, '/auth/login', { code: `code-${openid}`, ...extra }, undefined, {
    'CF-Connecting-IP': '203.0.113.7',
  })
  const text = await res.text()
  expect(res.status, text).toBe(200)
  return JSON.parse(text) as LoggedIn
}

/** The user's audit records, once the writes in flight settled. */
async function recordsOf(audit: AuditLog, uid: string): Promise<StoredAuditRecord[]> {
  await new Promise((resolve) => setTimeout(resolve, 5))
  return (await audit.query({ uid }, { limit: 100 })).records
}

describe('the directory, written by the flows', () => {
  it('a login writes the identity; a phone login its keyed hash, found by the number as typed', async () => {
    const { app, stores } = setup()
    const { directory } = stores()
    const { user } = await login(app, 'alice', { phoneCode: 'phone-13800138000' })
    expect(await directory.get(user.id)).toMatchObject({
      uid: user.id,
      identities: [
        { platform: 'example', appId: 'ex-app', openid: 'alice', unionid: 'un-code-alice' },
      ],
      phone: true,
    })
    const hash = await phoneHash(storageSecret, normalizePhone('+86 138 0013 8000') as string)
    expect((await directory.find({ phoneHash: hash }, { limit: 10 })).users[0]?.uid).toBe(user.id)
    // The directory holds no number.
    expect(JSON.stringify(await directory.get(user.id))).not.toContain('13800138000')
  })

  it('a phone number read later (/auth/phone) is stored as its keyed hash too', async () => {
    const { app, stores } = setup()
    const { directory } = stores()
    const lee = await login(app, 'lee')
    expect((await directory.get(lee.user.id))?.phone).toBe(false)
    const res = await post(app, '/auth/phone', { code: 'phone-13600136000' }, lee.token)
    expect(res.status, await res.text()).toBe(200)
    const hash = await phoneHash(storageSecret, '+8613600136000')
    expect((await directory.find({ phoneHash: hash }, { limit: 10 })).users[0]?.uid).toBe(
      lee.user.id,
    )
  })

  it('an account deletion (注销) and a platform push leave nothing of the user', async () => {
    const { app, stores } = setup()
    const { directory } = stores()
    const bob = await login(app, 'bob', { phoneCode: 'phone-13900139000' })
    const deleted = await post(app, '/auth/account', { code: 'code-bob' }, bob.token)
    expect(deleted.status, await deleted.text()).toBe(200)
    expect(await directory.get(bob.user.id)).toBeNull()
    expect(await directory.find({ openid: 'bob' }, { limit: 10 })).toEqual({ users: [] })
    expect(await directory.find({ unionid: 'un-code-bob' }, { limit: 10 })).toEqual({ users: [] })

    const carol = await login(app, 'carol')
    expect(await directory.get(carol.user.id)).not.toBeNull()
    const pushed = await post(app, '/example/events', { appId: 'ex-app', openid: 'carol' })
    expect(pushed.status).toBe(200)
    expect(await directory.get(carol.user.id)).toBeNull()
  })

  it('a login that began before a deletion of its user keeps no session and writes nothing', async () => {
    // The deletion runs while the login is between its directory write and its session.
    let deleting: (() => Promise<void>) | undefined
    const { app, stores } = setup((parts) => {
      const directory = parts.directory as Directory
      return {
        ...parts,
        directory: {
          ...directory,
          async put(entry) {
            const written = await directory.put(entry)
            const run = deleting
            deleting = undefined
            await run?.()
            return written
          },
        },
      }
    })
    const { directory } = stores()
    const dave = await login(app, 'dave')
    deleting = async () => {
      const res = await post(app, '/auth/account', { code: 'code-dave' }, dave.token)
      expect(res.status).toBe(200)
    }
    const res = await post(app, '/auth/login', { code: 'code-dave' })
    expect(res.status).toBe(401)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SESSION_EXPIRED')
    expect(await directory.get(dave.user.id)).toBeNull()
    // And the next login is a user like any other.
    const again = await login(app, 'dave')
    expect(await directory.get(again.user.id)).not.toBeNull()
  })

  it('a login whose directory write is refused by a deletion after it began fails, writing nothing', async () => {
    const { app, stores } = setup()
    const { directory } = stores()
    const erin = await login(app, 'erin')
    // A deletion stamped a minute in the future: every login now began before it.
    await directory.deleteUser(erin.user.id, Math.floor(Date.now() / 1000) + 60)
    const res = await post(app, '/auth/login', { code: 'code-erin' })
    expect(res.status).toBe(401)
    expect(await directory.get(erin.user.id)).toBeNull()
  })
})

describe('an operator’s deletion', () => {
  it('by the user id alone equals a user’s: sessions, identities, directory gone; recorded with the key id', async () => {
    const { app, stores, flow } = setup()
    const { directory, audit } = stores()
    const kim = await login(app, 'kim', { phoneCode: 'phone-13700137000' })
    const ended = await forgetAccount(flow(), kim.user.id, 'operator:k1')
    expect(ended).toBe(1)
    expect(await directory.get(kim.user.id)).toBeNull()
    const refreshed = await post(app, '/auth/refresh', { refreshToken: kim.refreshToken })
    expect(refreshed.status).toBe(401)
    const records = await recordsOf(audit, kim.user.id)
    expect(records.at(-1)).toMatchObject({
      type: 'account.deleted',
      actor: 'operator:k1',
      detail: { sessionsEnded: 1, identities: 1 },
    })
    // The next login is a new start, as after a user's own deletion.
    const again = await login(app, 'kim')
    expect((await directory.get(again.user.id))?.phone).toBe(false)
  })
})

describe('the audit log, written by the flows', () => {
  it('records a user’s security events, in order, with what each is about and no secret', async () => {
    const { app, stores } = setup()
    const { audit } = stores()
    const first = await login(app, 'frank', { device: { platform: 'ios', model: 'iPhone 15' } })
    const uid = first.user.id
    const second = await login(app, 'frank')
    const refreshed = (await (
      await post(app, '/auth/refresh', { refreshToken: first.refreshToken })
    ).json()) as LoggedIn
    // Reuse: the replaced refresh token again, past the grace (none here would do too).
    const sessions = (await (
      await app.request('/auth/sessions', { headers: { Authorization: `JWT ${second.token}` } })
    ).json()) as { sessions: { id: string; current: boolean }[] }
    const other = sessions.sessions.find((s) => !s.current)?.id as string
    const refused = await post(app, '/auth/profile', { nickname: 'bad name' }, second.token)
    expect(refused.status).toBe(422)
    const revoked = await app.request(`/auth/sessions/${other}`, {
      method: 'DELETE',
      headers: { Authorization: `JWT ${second.token}` },
    })
    expect(revoked.status).toBe(200)
    await post(app, '/auth/logout-all', {}, second.token)
    const third = await login(app, 'frank')
    await post(app, '/auth/logout', {}, third.token)
    const records = await recordsOf(audit, uid)
    expect(records.map((r) => r.type)).toEqual([
      'login',
      'login',
      'refresh',
      'profile.refused',
      'device.revoked',
      'logout.all',
      'login',
      'logout',
    ])
    expect(records[0]).toMatchObject({
      uid,
      actor: 'user',
      detail: {
        platform: 'example',
        app: 'ex-app',
        kind: 'code',
        device: 'ios iPhone 15',
        address: '203.0.113.7',
      },
    })
    expect(records[3]?.detail).toMatchObject({ field: 'nickname', check: 'risky' })
    const text = JSON.stringify(records)
    for (const secretText of [
      first.token,
      first.refreshToken,
      refreshed.token,
      refreshed.refreshToken,
      second.token,
      'bad name',
    ]) {
      expect(text).not.toContain(secretText)
    }
  })

  it('records refresh token reuse with the session it ended', async () => {
    const { app, stores } = setup()
    const { audit } = stores()
    const grace = await login(app, 'gina')
    const rotated = (await (
      await post(app, '/auth/refresh', { refreshToken: grace.refreshToken })
    ).json()) as LoggedIn
    // The successor used: the replaced one is now reuse.
    await post(app, '/auth/refresh', { refreshToken: rotated.refreshToken })
    const reused = await post(app, '/auth/refresh', { refreshToken: grace.refreshToken })
    expect(reused.status).toBe(401)
    const records = await recordsOf(audit, grace.user.id)
    expect(records.map((r) => r.type)).toEqual(['login', 'refresh', 'refresh', 'refresh.reuse'])
    expect(records[3]).toMatchObject({
      actor: 'system',
      detail: { session: records[0]?.detail?.session },
    })
  })

  it('records a deletion by whom, and a push with what it deleted', async () => {
    const { app, stores } = setup()
    const { audit } = stores()
    const hal = await login(app, 'hal')
    await post(app, '/auth/account', { code: 'code-hal' }, hal.token)
    const ivy = await login(app, 'ivy')
    await post(app, '/example/events', { appId: 'ex-app', openid: 'ivy' })
    const halRecords = await recordsOf(audit, hal.user.id)
    expect(halRecords.at(-1)).toMatchObject({
      type: 'account.deleted',
      actor: 'user',
      detail: { sessionsEnded: 1 },
    })
    const ivyRecords = await recordsOf(audit, ivy.user.id)
    expect(ivyRecords.map((r) => [r.type, r.actor])).toEqual([
      ['login', 'user'],
      ['account.deleted', 'platform:example'],
      ['push', 'platform:example'],
    ])
    expect(ivyRecords[2]?.detail).toMatchObject({ app: 'ex-app', forgot: true, found: true })
  })
})
