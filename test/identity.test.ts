// WeChat identity and compliance: unionid-first users, phone-number login,
// account deletion, resetUserSessionKey. Against workerd, KV, the session
// objects and the emulator.
import { runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { EMULATOR_APP_SECRET, emulatorStub } from '../src/emulator/stub'
import type { WxaBindings } from '../src/env'
import { defaultUserId, type WeChatIdentity } from '../src/hooks'
import { createWeChatClient } from '../src/platforms/wechat/client'
import type { UserSessions } from '../src/runtime/cloudflare/object'
import {
  call,
  codeFor,
  configFromEnv,
  emulate,
  emulatedSessionKey,
  expectError,
  kvKeys,
  login,
  newOpenid,
  phoneCode,
  served,
  testApp,
  testEnv,
  testIdentities,
} from './helpers'

const APP_ID = 'wx00000000emulator'
const SECOND = 'wx0000000000second'

/** The Worker with `vars` on top of the test env, as its own isolate. */
const appWith = (vars: Partial<WxaBindings> = {}, options = {}) => {
  const env = { ...testEnv, ...vars }
  return served(testApp({ ...options }), env)
}

async function loginTo(app: ReturnType<typeof appWith>, appId: string, openid: string, extra = {}) {
  const code = await codeFor(openid, { appId })
  const res = await call('POST', '/auth/login', { json: { code, appId, ...extra } }, app)
  expect(res.status, res.text).toBe(200)
  return res.body
}

describe('IDENTITY=unionid', () => {
  const unionApp = appWith({ IDENTITY: 'unionid' })

  it('gives one user to two apps that share a unionid; openid mode gives two', async () => {
    const unionid = `union-${crypto.randomUUID()}`
    const [a, b] = [newOpenid('a'), newOpenid('b')]
    await emulate(a, { unionid })
    await emulate(b, { unionid })
    const first = await loginTo(unionApp, APP_ID, a)
    const second = await loginTo(unionApp, SECOND, b)
    expect(second.user.id).toBe(first.user.id)
    expect(first.user.unionid).toBe(unionid)
    // The default: per (appid, openid).
    const byOpenid = await loginTo(appWith(), SECOND, b)
    expect(byOpenid.user.id).toBe(await defaultUserId(SECOND, b))
    expect(byOpenid.user.id).not.toBe(first.user.id)
  })

  it('falls back to the openid, and links the unionid to that user when it first appears', async () => {
    const unionid = `union-${crypto.randomUUID()}`
    const a = newOpenid('a')
    const before = await loginTo(unionApp, APP_ID, a)
    expect(before.user.id).toBe(await defaultUserId(APP_ID, a))
    await emulate(a, { unionid })
    const after = await loginTo(unionApp, APP_ID, a)
    expect(after.user.id).toBe(before.user.id)
    // Another app of the same person now finds that user.
    const b = newOpenid('b')
    await emulate(b, { unionid })
    expect((await loginTo(unionApp, SECOND, b)).user.id).toBe(before.user.id)
    expect(await kvKeys(`unionid:${unionid}`)).toHaveLength(1)
  })

  it('hands findOrCreateUser the identity as before', async () => {
    const seen: WeChatIdentity[] = []
    const app = appWith(
      { IDENTITY: 'unionid' },
      {
        findOrCreateUser: (identity: WeChatIdentity) => {
          seen.push(identity)
          return { id: 'custom-user', openid: identity.openid }
        },
      },
    )
    const a = newOpenid('a')
    await emulate(a, { unionid: 'u-given' })
    await loginTo(app, APP_ID, a)
    expect(seen).toEqual([{ platform: 'wechat', appId: APP_ID, openid: a, unionid: 'u-given' }])
  })

  it('refuses an unknown IDENTITY', () => {
    expect(() => configFromEnv({ ...testEnv, IDENTITY: 'email' })).toThrow(/IDENTITY/)
  })
})

describe('phone-number login in one request', () => {
  it('logs in and returns the number; findOrCreateUser and onPhoneNumber get it', async () => {
    const seen: unknown[] = []
    const app = appWith(
      {},
      {
        findOrCreateUser: (identity: WeChatIdentity) => {
          seen.push(identity.phone)
          return { id: `by-phone-${identity.phone?.purePhoneNumber}`, openid: identity.openid }
        },
        onPhoneNumber: (phone: unknown) => {
          seen.push(phone)
        },
      },
    )
    const openid = newOpenid()
    await codeFor(openid) // the emulated user exists before the button is pressed
    const phone = { phoneNumber: '13800138000', purePhoneNumber: '13800138000', countryCode: '86' }
    const res = await call(
      'POST',
      '/auth/login',
      { json: { code: await codeFor(openid), phoneCode: await phoneCode(openid, '13800138000') } },
      app,
    )
    expect(res.status, res.text).toBe(200)
    expect(res.body.phone).toEqual(phone)
    expect(res.body.user.id).toBe('by-phone-13800138000')
    expect(seen).toEqual([phone, phone])
  })

  it("refuses another user's phone code: WeChat checks it against the openid", async () => {
    const owner = newOpenid('owner')
    const other = newOpenid('other')
    await codeFor(owner)
    const stolen = await phoneCode(owner, '13800138000')
    const res = await call('POST', '/auth/login', {
      json: { code: await codeFor(other), phoneCode: stolen },
    })
    expectError(res, 400, 'PHONE_CODE_INVALID')
    // /auth/phone checks it too.
    const { token } = await login(other)
    const again = await phoneCode(owner, '13800138001')
    expectError(
      await call('POST', '/auth/phone', { token, json: { code: again } }),
      400,
      'PHONE_CODE_INVALID',
    )
    // The owner can still use that code: a refused check did not spend it.
    const mine = await login(owner)
    expect(
      (await call('POST', '/auth/phone', { token: mine.token, json: { code: again } })).status,
    ).toBe(200)
  })

  it('maps the exhausted quota (1400001) to 503 WECHAT_PHONE_QUOTA_EXHAUSTED, without a retry', async () => {
    const { openid, token } = await login()
    const code = await phoneCode(openid, '13800138000')
    await call('POST', '/__emulator/phone-quota', { json: { exhausted: true } })
    const lines: string[] = []
    const loud = served(
      testApp({ log: { error: (...args) => void lines.push(args.join(' ')), warn: () => {} } }),
    )
    try {
      expectError(
        await call('POST', '/auth/phone', { token, json: { code } }, loud),
        503,
        'WECHAT_PHONE_QUOTA_EXHAUSTED',
      )
      // Loud: the operator must top the quota up; every user's phone login fails until then.
      expect(lines.some((l) => l.startsWith('wxa-auth WECHAT_PHONE_QUOTA_EXHAUSTED'))).toBe(true)
      const res = await call('POST', '/auth/login', {
        json: { code: await codeFor(openid), phoneCode: await phoneCode(openid, '13800138000') },
      })
      expectError(res, 503, 'WECHAT_PHONE_QUOTA_EXHAUSTED')
    } finally {
      await call('POST', '/__emulator/phone-quota', { json: { exhausted: false } })
    }
  })
})

describe('DELETE /auth/account', () => {
  it('with a fresh code of the same user: the hook runs, every session ends, the identity goes', async () => {
    const deleted: string[] = []
    const app = appWith(
      {},
      { onDeleteAccount: (user: { id: string }) => void deleted.push(user.id) },
    )
    const openid = newOpenid()
    const one = await login(openid, app)
    const two = await login(openid, app)
    const res = await call(
      'DELETE',
      '/auth/account',
      { token: one.token, json: { code: await codeFor(openid) } },
      app,
    )
    expect(res.status, res.text).toBe(200)
    expect(res.body).toEqual({ ok: true })
    expect(deleted).toEqual([one.user.id])
    for (const token of [one.token, two.token]) {
      expectError(await call('GET', '/me', { token }, appWith()), 401, 'SESSION_EXPIRED')
    }
    expect(await testIdentities().get(APP_ID, openid, 'wechat')).toBeNull()
    // Nor does the user's object keep a session_key, in meta or in a session's row.
    const ns = testEnv.USER_SESSIONS as DurableObjectNamespace<UserSessions>
    const held = await runInDurableObject(ns.get(ns.idFromName(one.user.id)), (_o, state) => [
      ...state.storage.sql.exec("SELECT key FROM meta WHERE key LIKE 'key:%'").toArray(),
      ...state.storage.sql.exec('SELECT id FROM sessions WHERE session_key IS NOT NULL').toArray(),
    ])
    expect(held).toEqual([])
  })

  it("refuses another user's code, an old code and no code, and deletes nothing", async () => {
    const openid = newOpenid()
    const { token } = await login(openid)
    const other = await codeFor(newOpenid())
    expectError(
      await call('DELETE', '/auth/account', { token, json: { code: other } }),
      403,
      'REAUTH_REQUIRED',
    )
    const old = await codeFor(openid, { age: 301 })
    expectError(
      await call('DELETE', '/auth/account', { token, json: { code: old } }),
      403,
      'REAUTH_REQUIRED',
    )
    expectError(await call('DELETE', '/auth/account', { token, json: {} }), 400, 'INVALID_REQUEST')
    expectError(
      await call('DELETE', '/auth/account', { json: { code: other } }),
      401,
      'AUTH_REQUIRED',
    )
    expect((await call('GET', '/me', { token })).status).toBe(200)
    expect(await testIdentities().get(APP_ID, openid, 'wechat')).not.toBeNull()
  })

  it('a failing onDeleteAccount aborts: the user is still there to try again', async () => {
    const app = appWith(
      {},
      {
        onDeleteAccount: () => {
          throw new Error('database down')
        },
      },
    )
    const openid = newOpenid()
    const { token } = await login(openid, app)
    const res = await call(
      'DELETE',
      '/auth/account',
      { token, json: { code: await codeFor(openid) } },
      app,
    )
    expectError(res, 500, 'INTERNAL_ERROR')
    expect((await call('GET', '/me', { token }, app)).status).toBe(200)
  })
})

describe('resetSessionKey (resetUserSessionKey)', () => {
  it('gets a new session_key from WeChat, signed with the current one', async () => {
    const openid = newOpenid()
    await login(openid)
    const wechat = createWeChatClient({
      appId: APP_ID,
      appSecret: EMULATOR_APP_SECRET,
      fetch: (input, init) => emulatorStub(testEnv).fetch(input, init),
    })
    const { accessToken } = await wechat.stableToken()
    const current = await emulatedSessionKey(openid)
    const next = await wechat.resetSessionKey(accessToken, openid, current)
    expect(next).not.toBe(current)
    expect(await emulatedSessionKey(openid)).toBe(next)
    expect(await wechat.checkSessionKey(accessToken, openid, current)).toBe(false)
    const stale = await wechat.resetSessionKey(accessToken, openid, current).catch((err) => err)
    expect(stale.code).toBe('SESSION_KEY_STALE')
  })
})
