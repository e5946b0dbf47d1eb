// Douyin and QQ beside WeChat on one deployment (wrangler.toml [env.dev.vars]:
// a Douyin app, a QQ app and two WeChat apps), each through its emulator
// face, reached through the same clients as the platforms themselves.

import type { Context } from 'hono'
import { describe, expect, it } from 'vitest'
import { EMULATOR_FACES, emulatorStub } from '../src/emulator/stub'
import { emulatorUpstream } from '../src/emulator/upstream'
import { defaultUserId, type PlatformIdentity } from '../src/hooks'
import {
  appWith,
  call,
  configError,
  configFromEnv,
  emulate,
  expectError,
  kvKeys,
  newOpenid,
  openKv,
  production,
  served,
  testApp,
  testAuth,
  testEnv,
  testIdentities,
} from './helpers'

const emulated = emulatorUpstream()

const WECHAT = 'wx00000000emulator'
const DOUYIN = 'tt0000000000emu01'
const QQ = '1100000001'

interface Codes {
  code: string
  anonymousCode?: string
}

/** What `tt.login()` / `qq.login()` / `wx.login()` gives the mini program of `appId`. */
async function codesFor(openid: string, appId: string, extra = {}): Promise<Codes> {
  const res = await call<Codes>('POST', '/__emulator/code', { json: { openid, appId, ...extra } })
  expect(res.status, res.text).toBe(200)
  return res.body
}

async function loginAt(appId: string, openid = newOpenid(), app = appWith(), extra = {}) {
  const codes = await codesFor(openid, appId)
  const res = await call('POST', '/auth/login', { json: { ...codes, appId, ...extra } }, app)
  expect(res.status, res.text).toBe(200)
  return { openid, ...res.body }
}

describe('logging in on each platform', () => {
  it.each([
    ['douyin', DOUYIN, `identity:douyin:${DOUYIN}:`],
    ['qq', QQ, `identity:qq:${QQ}:`],
  ])('%s: a session, a token, and a user that says its platform', async (platform, appId, key) => {
    const openid = newOpenid(platform)
    const res = await loginAt(appId, openid)
    const id = await defaultUserId(appId, openid, platform as 'douyin' | 'qq')
    expect(res.user).toEqual({ id, platform, openid })
    const me = await call('GET', '/me', { token: res.token })
    expect(me.body.user).toEqual({ id, platform, openid })
    expect(await kvKeys(`${key}${openid}`)).toHaveLength(1)
    // No WeChat-shaped key for this user.
    expect(await kvKeys(`identity:${appId}:`)).toHaveLength(0)
    const [session] = await kvKeys(`session:${id}:`)
    expect((await openKv(session?.name ?? ''))?.platform).toBe(platform)
  })

  it('tells the same openid on three platforms apart: three users, and /me says which', async () => {
    const openid = newOpenid('same')
    const logins = await Promise.all([WECHAT, DOUYIN, QQ].map((appId) => loginAt(appId, openid)))
    const ids = new Set(logins.map((l) => l.user.id))
    expect(ids.size).toBe(3)
    const mes = await Promise.all(logins.map((l) => call('GET', '/me', { token: l.token })))
    expect(mes.map((m) => m.body.user.platform)).toEqual(['wechat', 'douyin', 'qq'])
    // WeChat's user id is what it always was: sha256 of (appid, openid) alone.
    expect(logins[0]?.user.id).toBe(await defaultUserId(WECHAT, openid))
    expect(await kvKeys(`identity:${WECHAT}:${openid}`)).toHaveLength(1)
  })

  it("hands the hooks the platform, and Douyin's anonymous openid when an anonymousCode came", async () => {
    const seen: PlatformIdentity[] = []
    const app = appWith(
      {},
      {
        findOrCreateUser: (identity: PlatformIdentity) => {
          seen.push(identity)
          return { id: `m-${identity.platform}-${identity.openid}` }
        },
      },
    )
    const openid = newOpenid()
    await loginAt(DOUYIN, openid, app)
    await loginAt(QQ, openid, app)
    const { code } = await codesFor(openid, DOUYIN)
    const bare = await call('POST', '/auth/login', { json: { code, appId: DOUYIN } }, app)
    expect(bare.status, bare.text).toBe(200)
    expect(seen).toEqual([
      {
        platform: 'douyin',
        appId: DOUYIN,
        openid,
        anonymousOpenid: expect.stringMatching(/^anon-/),
      },
      { platform: 'qq', appId: QQ, openid },
      { platform: 'douyin', appId: DOUYIN, openid },
    ])
  })

  it('ignores an anonymousCode sent to a platform without one', async () => {
    const codes = await codesFor(newOpenid(), QQ)
    const res = await call('POST', '/auth/login', {
      json: { ...codes, anonymousCode: 'not-a-code', appId: QQ },
    })
    expect(res.status, res.text).toBe(200)
  })
})

describe("each platform's login errors, as neutral codes", () => {
  it('Douyin: a spent code, a code of another app and a bad anonymousCode are 401 CODE_INVALID', async () => {
    const openid = newOpenid()
    const codes = await codesFor(openid, DOUYIN)
    await loginAt(DOUYIN, openid)
    const first = await call('POST', '/auth/login', { json: { ...codes, appId: DOUYIN } })
    expect(first.status).toBe(200)
    // Douyin has no "code used": a spent code is a bad code (40018).
    expectError(
      await call('POST', '/auth/login', { json: { code: codes.code, appId: DOUYIN } }),
      401,
      'CODE_INVALID',
    )
    const wechatCode = await codesFor(openid, WECHAT)
    expectError(
      await call('POST', '/auth/login', { json: { code: wechatCode.code, appId: DOUYIN } }),
      401,
      'CODE_INVALID',
    )
    const fresh = await codesFor(openid, DOUYIN)
    expectError(
      await call('POST', '/auth/login', {
        json: { code: fresh.code, anonymousCode: 'bogus', appId: DOUYIN },
      }),
      401,
      'CODE_INVALID',
    )
  })

  it.each([
    ['Douyin', DOUYIN],
    ['QQ', QQ],
  ])("%s: errors carry no WECHAT_ alias (0.2's names were WeChat's alone)", async (_, appId) => {
    const openid = newOpenid()
    await loginAt(appId, openid)
    const bad = await call('POST', '/auth/login', { json: { code: 'not-a-code', appId } })
    expectError(bad, 401, 'CODE_INVALID')
    expect(bad.body.error).not.toHaveProperty('alias')
    await emulate(openid, { platform: appId === DOUYIN ? 'douyin' : 'qq', fault: 'busy' })
    const busy = await call('POST', '/auth/login', {
      json: { ...(await codesFor(openid, appId)), appId },
    })
    await emulate(openid, { platform: appId === DOUYIN ? 'douyin' : 'qq', fault: 'none' })
    expectError(busy, 503, 'UPSTREAM_UNAVAILABLE')
    expect(busy.body.error).not.toHaveProperty('alias')
    // WeChat's keep theirs until 0.4.
    const wechat = await call('POST', '/auth/login', {
      json: { code: 'not-a-code', appId: WECHAT },
    })
    expect(wechat.body.error).toMatchObject({ code: 'CODE_INVALID', alias: 'WECHAT_CODE_INVALID' })
  })

  it('QQ: a spent code is 401 CODE_USED, a code of another app CODE_INVALID', async () => {
    const openid = newOpenid()
    const { code } = await codesFor(openid, QQ)
    expect((await call('POST', '/auth/login', { json: { code, appId: QQ } })).status).toBe(200)
    expectError(await call('POST', '/auth/login', { json: { code, appId: QQ } }), 401, 'CODE_USED')
    const other = await codesFor(openid, DOUYIN)
    expectError(
      await call('POST', '/auth/login', { json: { code: other.code, appId: QQ } }),
      401,
      'CODE_INVALID',
    )
  })

  it.each([
    ['douyin', DOUYIN],
    ['qq', QQ],
  ])(
    '%s: busy is retried, then 503; a lost answer (502) is never retried',
    async (platform, appId) => {
      const openid = newOpenid()
      await codesFor(openid, appId)
      await emulate(openid, { platform, fault: 'busy', times: 1 })
      expect((await loginAt(appId, openid)).user.platform).toBe(platform)
      await emulate(openid, { platform, fault: 'busy' })
      const before = (await call('GET', `/__emulator/users/${openid}?platform=${platform}`)).body
        .calls
      const busy = await call('POST', '/auth/login', {
        json: { ...(await codesFor(openid, appId)), appId },
      })
      expectError(busy, 503, 'UPSTREAM_UNAVAILABLE')
      const after = (await call('GET', `/__emulator/users/${openid}?platform=${platform}`)).body
        .calls
      expect(after - before).toBe(3) // the first attempt and two retries
      await emulate(openid, { platform, fault: 'spend' })
      const lost = await call('POST', '/auth/login', {
        json: { ...(await codesFor(openid, appId)), appId },
      })
      expectError(lost, 503, 'UPSTREAM_UNAVAILABLE')
      const last = (await call('GET', `/__emulator/users/${openid}?platform=${platform}`)).body
        .calls
      expect(last - after).toBe(1)
      await emulate(openid, { platform, fault: 'none' })
    },
  )

  it.each([
    ['douyin', 'https://developer.toutiao.com', EMULATOR_FACES.douyin, DOUYIN],
    ['qq', 'https://api.q.qq.com', EMULATOR_FACES.qq, QQ],
  ])(
    '%s: a wrong AppSecret is 500 APP_CREDENTIALS_INVALID, loud in the log, quiet in the answer',
    async (platform, base, face, appId) => {
      const errors: string[] = []
      const app = served(
        testApp({
          log: { error: (line: string) => void errors.push(line), warn: () => {} },
          upstream: (c: Context) => ({
            ...emulated(c),
            [platform]: {
              fetch: (input: Request | string | URL, init?: RequestInit) =>
                emulatorStub(testEnv).fetch(String(input).replace(base, `http://${face}`), init),
              appSecret: 'a-wrong-app-secret',
            },
          }),
        }),
      )
      const codes = await codesFor(newOpenid(), appId)
      const res = await call('POST', '/auth/login', { json: { ...codes, appId } }, app)
      expectError(res, 500, 'APP_CREDENTIALS_INVALID')
      expect(res.text).not.toContain('a-wrong-app-secret')
      expect(errors.join('\n')).toMatch(
        /APP_CREDENTIALS_INVALID: code2Session: (err_no 40017|errcode 40125)/,
      )
      expect(errors.join('\n')).not.toContain('a-wrong-app-secret')
    },
  )
})

describe("each platform's data", () => {
  const profile = { nickName: 'Dou', avatarUrl: 'https://example.com/d.png' }

  it.each([
    ['douyin', DOUYIN],
    ['qq', QQ],
  ])(
    '%s: decrypts with the newest session_key of that platform, checking the watermark',
    async (platform, appId) => {
      const { openid, token } = await loginAt(appId)
      const sealed = await call('POST', '/__emulator/user-data', {
        json: { openid, data: profile, appid: appId },
      })
      const res = await call('POST', '/auth/decrypt', { token, json: sealed.body })
      expect(res.status, res.text).toBe(200)
      expect(res.body).toEqual({ data: profile })
      // Sealed for another app: the same user's key, another watermark. No checkSessionKey to ask.
      const foreign = await call('POST', '/__emulator/user-data', {
        json: { openid, data: profile, appid: WECHAT, platform },
      })
      expectError(
        await call('POST', '/auth/decrypt', { token, json: foreign.body }),
        400,
        'DECRYPT_FAILED',
      )
    },
  )

  it('checks rawData and decrypts encryptedData at a QQ login', async () => {
    const openid = newOpenid()
    const { code } = await codesFor(openid, QQ)
    const sealed = await call('POST', '/__emulator/user-data', {
      json: { openid, data: profile, platform: 'qq' },
    })
    const res = await call('POST', '/auth/login', { json: { code, appId: QQ, ...sealed.body } })
    expect(res.status, res.text).toBe(200)
    expect(res.body.userInfo).toEqual(profile)
    const forged = await call('POST', '/auth/login', {
      json: {
        ...(await codesFor(openid, QQ)),
        appId: QQ,
        rawData: sealed.body.rawData,
        signature: '0'.repeat(40),
      },
    })
    expectError(forged, 400, 'SIGNATURE_INVALID')
  })

  it('answers 400 NOT_OFFERED for a phone number on Douyin and QQ, before any code is spent', async () => {
    for (const appId of [DOUYIN, QQ]) {
      const { openid, token } = await loginAt(appId)
      expectError(
        await call('POST', '/auth/phone', { token, json: { code: 'phone-code' } }),
        400,
        'NOT_OFFERED',
      )
      const codes = await codesFor(openid, appId)
      const res = await call('POST', '/auth/login', {
        json: { ...codes, appId, phoneCode: 'phone-code' },
      })
      expectError(res, 400, 'NOT_OFFERED')
      // The login code was not spent: it still logs in.
      const again = await call('POST', '/auth/login', { json: { ...codes, appId } })
      expect(again.status, again.text).toBe(200)
    }
  })

  it('resetSessionKey is WeChat only: NOT_OFFERED elsewhere', async () => {
    const { openid } = await loginAt(DOUYIN)
    await expect(
      testAuth().resetSessionKey({ env: testEnv } as never, { appId: DOUYIN, openid }),
    ).rejects.toMatchObject({ code: 'NOT_OFFERED' })
  })
})

describe('unionids and account deletion per platform', () => {
  it('links a unionid within one platform only (IDENTITY=unionid)', async () => {
    const app = appWith({ IDENTITY: 'unionid' })
    const unionid = `union-${crypto.randomUUID()}`
    const [w, d] = [newOpenid('w'), newOpenid('d')]
    await emulate(w, { unionid })
    await emulate(d, { platform: 'douyin', unionid })
    const wechat = await loginAt(WECHAT, w, app)
    const douyin = await loginAt(DOUYIN, d, app)
    expect(douyin.user.unionid).toBe(unionid)
    expect(douyin.user.id).not.toBe(wechat.user.id)
    expect(await kvKeys(`unionid:${unionid}`)).toHaveLength(1)
    expect(await kvKeys(`unionid:douyin:${unionid}`)).toHaveLength(1)
    // A later Douyin login follows the Douyin link.
    expect((await loginAt(DOUYIN, d, app)).user.id).toBe(douyin.user.id)
  })

  it('deletes a Douyin account with a fresh code: its sessions, identity and link go', async () => {
    const openid = newOpenid()
    const unionid = `union-${crypto.randomUUID()}`
    await emulate(openid, { platform: 'douyin', unionid })
    const app = appWith({ IDENTITY: 'unionid' })
    const { token } = await loginAt(DOUYIN, openid, app)
    expect(await testIdentities().get(DOUYIN, openid, 'douyin')).not.toBeNull()
    const { code } = await codesFor(openid, DOUYIN)
    const res = await call('DELETE', '/auth/account', { token, json: { code } }, app)
    expect(res.status, res.text).toBe(200)
    expectError(await call('GET', '/me', { token }), 401, 'SESSION_EXPIRED')
    expect(await testIdentities().get(DOUYIN, openid, 'douyin')).toBeNull()
    await expect.poll(() => kvKeys(`unionid:douyin:${unionid}`)).toHaveLength(0)
  })
})

describe('the configuration of Douyin and QQ', () => {
  const only = (vars: Record<string, string>) =>
    production({ WECHAT_APP_ID: '', WECHAT_APP_SECRET: '', ...vars })

  it('needs no WECHAT_APP_ID when another platform has an app', () => {
    const config = configFromEnv(
      only({
        DOUYIN_APP_ID: 'tt07e3715e98c9aac0',
        DOUYIN_APP_SECRET: 's',
        QQ_APP_ID: '1112345678',
        QQ_APP_SECRET: 'q',
      }),
    )
    expect(config.defaultAppId).toBe('tt07e3715e98c9aac0')
    expect([...config.apps.values()].map((a) => [a.platform, a.appId])).toEqual([
      ['douyin', 'tt07e3715e98c9aac0'],
      ['qq', '1112345678'],
    ])
    expect(config.apps.get('1112345678')?.phone).toBeUndefined()
  })

  it('names the variable at fault', () => {
    expect(configError(only({}))).toMatch(
      /WECHAT_APP_ID, DOUYIN_APP_ID, QQ_APP_ID or ALIPAY_APP_ID/,
    )
    expect(configError(only({ QQ_APP_ID: 'wx1234567', QQ_APP_SECRET: 's' }))).toContain('QQ_APP_ID')
    expect(configError(only({ DOUYIN_APP_ID: '1234567', DOUYIN_APP_SECRET: 's' }))).toContain(
      'DOUYIN_APP_ID',
    )
    expect(configError(only({ DOUYIN_APP_ID: 'tt07e3715e98c9aac0' }))).toContain(
      'DOUYIN_APP_SECRET',
    )
    expect(configError(only({ QQ_APP_ID: '11111 22222', QQ_APP_SECRETS: '11111:s' }))).toContain(
      'QQ_APP_SECRETS',
    )
  })

  it.each([
    ['DOUYIN_API_BASE', { DOUYIN_APP_ID: 'tt07e3715e98c9aac0', DOUYIN_APP_SECRET: 's' }],
    ['QQ_API_BASE', { QQ_APP_ID: '1112345678', QQ_APP_SECRET: 's' }],
  ])('%s: https only, http only to this machine', (name, vars) => {
    expect(configError(only({ ...vars, [name]: 'http://relay.example.com' }))).toContain(name)
    expect(configError(only({ ...vars, [name]: 'https://u:p@relay.example.com' }))).toContain(name)
    expect(() =>
      configFromEnv(only({ ...vars, [name]: 'https://relay.example.com' })),
    ).not.toThrow()
    expect(() => configFromEnv(only({ ...vars, [name]: 'http://127.0.0.1:9' }))).not.toThrow()
  })
})

describe("the emulator's Douyin and QQ", () => {
  it('issues a code with an anonymousCode for Douyin, a code alone for QQ; by appId or platform', async () => {
    const openid = newOpenid()
    expect(await codesFor(openid, DOUYIN)).toEqual({
      code: expect.any(String),
      anonymousCode: expect.any(String),
    })
    expect(await codesFor(openid, QQ)).toEqual({ code: expect.any(String) })
    const byPlatform = await call('POST', '/__emulator/code', { json: { openid, platform: 'qq' } })
    expect(byPlatform.status).toBe(200)
    const unknown = await call('POST', '/__emulator/code', { json: { openid, appId: 'tt-nope' } })
    expect(unknown.status).toBe(400)
    const bad = await call('POST', '/__emulator/code', { json: { openid, platform: 'line' } })
    expect(bad.status).toBe(400)
    const apps = await call('GET', '/__emulator/apps')
    expect(apps.body).toEqual({
      wechat: [WECHAT, 'wx0000000000second'],
      douyin: [DOUYIN],
      qq: [QQ],
      alipay: ['2021000000000001'],
    })
  })

  it("keeps each platform's users apart", async () => {
    const openid = newOpenid()
    await codesFor(openid, DOUYIN)
    const douyin = await call('GET', `/__emulator/users/${openid}?platform=douyin`)
    expect(douyin.body).toMatchObject({ platform: 'douyin', openid })
    expect((await call('GET', `/__emulator/users/${openid}`)).status).toBe(404)
    expect((await call('GET', `/__emulator/users/${openid}?platform=qq`)).status).toBe(404)
  })
})

describe('the profile on Douyin and QQ', () => {
  it.each([
    ['douyin', DOUYIN],
    ['qq', QQ],
  ])(
    '%s: kept without WeChat’s content checks, which are WeChat’s alone',
    async (platform, appId) => {
      const { token } = await loginAt(appId, newOpenid(platform))
      // The emulator's WeChat would call this risky: no other platform is asked.
      const set = await call('PUT', '/auth/profile', { token, json: { nickname: 'a risky name' } })
      expect(set.status, set.text).toBe(200)
      expect(set.body.profile).toEqual({ nickname: 'a risky name', avatarUrl: null })
      expect((await call('GET', '/auth/profile', { token })).body).toEqual(set.body)
    },
  )
})
