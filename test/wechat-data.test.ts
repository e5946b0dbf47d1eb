import { runInDurableObject } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { EMULATOR_APP_ID } from '../src/emulator/stub'
import type { DefaultUser } from '../src/hooks'
import { defaultUserId } from '../src/hooks'
import type { PhoneNumber } from '../src/platforms/wechat/client'
import type { UserSessions } from '../src/runtime/cloudflare/object'
import { accessTokenKey } from '../src/storage/keys'
import {
  call,
  codeFor,
  emulatedSessionKey,
  expectError,
  kvKeys,
  login,
  newOpenid,
  openKv,
  phoneCode,
  served,
  stableTokenCalls,
  testApp,
  testEnv,
  userData,
} from './helpers'

const APP_ID = EMULATOR_APP_ID
const profile = {
  nickName: '微信用户 🐼',
  gender: 0,
  language: 'zh_CN',
  avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/vi_32/x/132',
}

/** An app with every hook recorded. */
function hookedApp() {
  const userInfos: [Record<string, unknown>, DefaultUser][] = []
  const phones: [PhoneNumber, DefaultUser][] = []
  const app = testApp({
    onUserInfo: (info, user) => {
      userInfos.push([info, user])
    },
    onPhoneNumber: (phone, user) => {
      phones.push([phone, user])
    },
  })
  return { app: served(app), userInfos, phones }
}

const objectOf = (uid: string) => {
  const ns = testEnv.USER_SESSIONS as DurableObjectNamespace<UserSessions>
  return ns.get(ns.idFromName(uid))
}

/** A user who has logged in, with a valid token. */
async function loggedIn() {
  const openid = newOpenid()
  const { token } = await login(openid)
  return { openid, token }
}

const b64 = (bytes: ArrayBuffer | Uint8Array) => btoa(String.fromCharCode(...new Uint8Array(bytes)))

/** Encrypts `plaintext` as WeChat would, with `sessionKey`, in the test (for crafted inputs). */
async function seal(sessionKey: string, plaintext: string) {
  const raw = Uint8Array.from(atob(sessionKey), (ch) => ch.charCodeAt(0))
  const key = await crypto.subtle.importKey('raw', raw, 'AES-CBC', false, ['encrypt'])
  const iv = crypto.getRandomValues(new Uint8Array(16))
  const data = await crypto.subtle.encrypt(
    { name: 'AES-CBC', iv },
    key,
    new TextEncoder().encode(plaintext),
  )
  return { encryptedData: b64(data), iv: b64(iv) }
}

/** A fresh user's wx.login code, and the user data the mini program got after it. */
async function codeWithUserData() {
  const openid = newOpenid()
  const code = await codeFor(openid)
  return { openid, code, sealed: await userData(openid, profile) }
}

describe('POST /auth/login with user info', () => {
  it('verifies rawData, decrypts encryptedData, hands the profile to onUserInfo and returns it', async () => {
    const { app, userInfos } = hookedApp()
    const { openid, code, sealed } = await codeWithUserData()
    expect(JSON.parse(sealed.rawData)).toEqual(profile)
    const res = await call('POST', '/auth/login', { json: { code, ...sealed } }, app)
    expect(res.status, res.text).toBe(200)
    const id = await defaultUserId(APP_ID, openid)
    expect(res.body).toEqual({
      token: expect.any(String),
      tokenType: 'JWT',
      expiresAt: expect.any(String),
      expiresIn: expect.any(Number),
      refreshToken: expect.any(String),
      refreshExpiresAt: expect.any(String),
      user: { id, platform: 'wechat', openid },
      userInfo: profile,
    })
    expect(userInfos).toEqual([[profile, { id, platform: 'wechat', openid }]])
  })

  it('accepts rawData and signature alone, returning the signed profile', async () => {
    const { code, sealed } = await codeWithUserData()
    const { rawData, signature } = sealed
    const res = await call('POST', '/auth/login', { json: { code, rawData, signature } })
    expect(res.status, res.text).toBe(200)
    expect(res.body.userInfo).toEqual(profile)
  })

  it('answers without userInfo when none was sent', async () => {
    const res = await login()
    expect(res).not.toHaveProperty('userInfo')
  })
})

describe('POST /auth/login with user info that must be rejected', () => {
  it('rejects a signature that does not match rawData, and writes no session', async () => {
    const { app, userInfos } = hookedApp()
    const { openid, code, sealed } = await codeWithUserData()
    const rawData = JSON.stringify({ ...profile, nickName: 'admin' })
    const res = await call('POST', '/auth/login', { json: { code, ...sealed, rawData } }, app)
    expectError(res, 400, 'SIGNATURE_INVALID')
    expect(userInfos).toEqual([])
    expect(await kvKeys(`session:${await defaultUserId(APP_ID, openid)}:`)).toEqual([])
    expect(await kvKeys(`identity:${APP_ID}:${openid}`)).toEqual([])
  })

  it('rejects data encrypted with an older session_key, and writes no session', async () => {
    const openid = newOpenid()
    await codeFor(openid)
    const sealed = await userData(openid, profile)
    const code = await codeFor(openid, { rotateSessionKey: true })
    const { encryptedData, iv } = sealed
    const res = await call('POST', '/auth/login', { json: { code, encryptedData, iv } })
    expectError(res, 400, 'DECRYPT_FAILED')
    expect(await kvKeys(`session:${await defaultUserId(APP_ID, openid)}:`)).toEqual([])
  })

  it.each([
    ['rawData without signature', { rawData: '{}' }],
    ['signature without rawData', { signature: 'a'.repeat(40) }],
    ['encryptedData without iv', { encryptedData: 'AAAA' }],
    ['iv without encryptedData', { iv: 'AAAAAAAAAAAAAAAAAAAAAA==' }],
  ])('rejects %s before spending the code', async (_name, extra) => {
    const code = await codeFor(newOpenid())
    expectError(
      await call('POST', '/auth/login', { json: { code, ...extra } }),
      400,
      'INVALID_REQUEST',
    )
    expect((await call('POST', '/auth/login', { json: { code } })).status).toBe(200)
  })

  it('rejects signed rawData that is not a JSON object', async () => {
    const openid = newOpenid()
    const code = await codeFor(openid)
    const rawData = '["not", "an object"]'
    const sessionKey = await emulatedSessionKey(openid)
    const digest = await crypto.subtle.digest(
      'SHA-1',
      new TextEncoder().encode(rawData + sessionKey),
    )
    const signature = Array.from(new Uint8Array(digest), (b) =>
      b.toString(16).padStart(2, '0'),
    ).join('')
    const res = await call('POST', '/auth/login', { json: { code, rawData, signature } })
    expectError(res, 400, 'INVALID_REQUEST')
  })
})

describe('POST /auth/decrypt', () => {
  it('needs a login', async () => {
    const res = await call('POST', '/auth/decrypt', { json: { encryptedData: 'AAAA', iv: 'AAAA' } })
    expectError(res, 401, 'AUTH_REQUIRED')
  })

  it('decrypts with the newest session_key and returns the data without its watermark', async () => {
    const { openid, token } = await loggedIn()
    const data = { stepInfoList: [{ timestamp: 1764300000, step: 8012 }] }
    const { encryptedData, iv } = await userData(openid, data)
    const res = await call('POST', '/auth/decrypt', { token, json: { encryptedData, iv } })
    expect(res.status, res.text).toBe(200)
    expect(res.body).toEqual({ data })
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('still decrypts data made before a later wx.login, with the key it was made with', async () => {
    const { openid, token } = await loggedIn()
    const { encryptedData, iv } = await userData(openid, profile)
    await call('POST', `/__emulator/users/${openid}/rotate-session-key`)
    const res = await call('POST', '/auth/decrypt', { token, json: { encryptedData, iv } })
    expect(res.status, res.text).toBe(200)
    expect(res.body).toEqual({ data: profile })
  })
})

describe('the stale session_key story, end to end', () => {
  it('says "log in again" after a second wx.login, and decrypts after the new login', async () => {
    const { openid, token } = await loggedIn()
    // A second wx.login on the client: WeChat replaces the session_key; the server
    // still holds the old one. The data the client gets next uses the new key.
    const rotated = await call('POST', '/__emulator/code', {
      json: { openid, rotateSessionKey: true },
    })
    expect(rotated.status).toBe(200)
    const { encryptedData, iv } = await userData(openid, profile)

    const stale = await call('POST', '/auth/decrypt', { token, json: { encryptedData, iv } })
    expectError(stale, 409, 'SESSION_KEY_STALE')
    // The token still works: the session is fine, only the key is old.
    expect((await call('GET', '/me', { token })).status).toBe(200)

    // The client logs in again with the code from that wx.login ...
    const again = await call('POST', '/auth/login', { json: { code: rotated.body.code } })
    expect(again.status, again.text).toBe(200)
    // ... and the same data now decrypts, with either token.
    for (const t of [again.body.token, token]) {
      const res = await call('POST', '/auth/decrypt', { token: t, json: { encryptedData, iv } })
      expect(res.status, res.text).toBe(200)
      expect(res.body).toEqual({ data: profile })
    }
  })

  it('answers "log in again" for any failure once the key changed at WeChat', async () => {
    const { openid, token } = await loggedIn()
    await call('POST', `/__emulator/users/${openid}/rotate-session-key`)
    const sealed = await seal(await emulatedSessionKey(openid), '{"x":1}')
    expectError(
      await call('POST', '/auth/decrypt', { token, json: sealed }),
      409,
      'SESSION_KEY_STALE',
    )
  })

  it('keeps the newest session_key when the session of its login ends and its row goes', async () => {
    const openid = newOpenid()
    const first = await login(openid)
    await call('POST', `/__emulator/users/${openid}/rotate-session-key`)
    const second = await login(openid)
    const object = objectOf(await defaultUserId(APP_ID, openid))
    const keyed = () =>
      runInDurableObject(object, (_o, state) => ({
        rows: state.storage.sql
          .exec('SELECT id FROM sessions WHERE session_key IS NOT NULL')
          .toArray().length,
        meta: state.storage.sql.exec("SELECT key FROM meta WHERE key LIKE 'key:%'").toArray()
          .length,
      }))
    // Each login's key rides in its session's row; meta holds none.
    expect(await keyed()).toEqual({ rows: 2, meta: 0 })
    expect((await call('POST', '/auth/logout', { token: second.token })).status).toBe(200)
    // The ended session had no KV copy: its row is gone, and its key (the newest) moved to meta.
    expect(await keyed()).toEqual({ rows: 1, meta: 1 })
    const sealed = await userData(openid, profile)
    const json = { encryptedData: sealed.encryptedData, iv: sealed.iv }
    const res = await call('POST', '/auth/decrypt', { token: first.token, json })
    expect(res.status, res.text).toBe(200)
  })

  it('answers "log in again" when no session_key is kept for the user', async () => {
    const { openid, token } = await loggedIn()
    await runInDurableObject(objectOf(await defaultUserId(APP_ID, openid)), (_o, state) => {
      state.storage.sql.exec("DELETE FROM meta WHERE key LIKE 'key:%'")
      state.storage.sql.exec('UPDATE sessions SET key_slot = NULL, session_key = NULL')
    })
    await testEnv.SESSIONS.delete(`identity:${APP_ID}:${openid}`)
    const { encryptedData, iv } = await userData(openid, profile)
    const res = await call('POST', '/auth/decrypt', { token, json: { encryptedData, iv } })
    expectError(res, 409, 'SESSION_KEY_STALE')
  })
})

describe('POST /auth/decrypt with bad input: always 400 with a stable code, never 500', () => {
  let user: { openid: string; token: string }
  let good: { encryptedData: string; iv: string }
  let warn: ReturnType<typeof vi.spyOn>
  beforeEach(async () => {
    user = await loggedIn()
    const { encryptedData, iv } = await userData(user.openid, profile)
    good = { encryptedData, iv }
    warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
  })
  afterEach(() => warn.mockRestore())

  const bytes = (b64text: string) => Uint8Array.from(atob(b64text), (ch) => ch.charCodeAt(0))
  const corruptions: [string, (g: { encryptedData: string; iv: string }) => object][] = [
    [
      '+ turned into a space',
      (g) => ({
        ...g,
        encryptedData: `${g.encryptedData.slice(0, 8)} ${g.encryptedData.slice(9)}`,
      }),
    ],
    [
      '+ turned into a space in the iv',
      (g) => ({ ...g, iv: `${g.iv.slice(0, 4)} ${g.iv.slice(5)}` }),
    ],
    [
      'base64 with bad characters',
      (g) => ({ ...g, encryptedData: `*${g.encryptedData.slice(1)}` }),
    ],
    ['base64 cut mid-quantum', (g) => ({ ...g, encryptedData: g.encryptedData.slice(0, -3) })],
    ['an iv of 15 bytes', (g) => ({ ...g, iv: b64(bytes(g.iv).subarray(0, 15)) })],
    ['an iv of 17 bytes', (g) => ({ ...g, iv: b64(new Uint8Array([...bytes(g.iv), 1])) })],
    [
      'ciphertext not a multiple of 16',
      (g) => ({ ...g, encryptedData: b64(bytes(g.encryptedData).subarray(1)) }),
    ],
    [
      'ciphertext truncated by a block',
      (g) => ({ ...g, encryptedData: b64(bytes(g.encryptedData).subarray(0, -16)) }),
    ],
    ['another iv', (g) => ({ ...g, iv: b64(crypto.getRandomValues(new Uint8Array(16))) })],
  ]

  it.each(corruptions)('rejects %s', async (_name, corrupt) => {
    const json = corrupt(good)
    const res = await call('POST', '/auth/decrypt', { token: user.token, json })
    expectError(res, 400, 'DECRYPT_FAILED')
  })

  it('rejects data under a wrong key', async () => {
    const key = b64(crypto.getRandomValues(new Uint8Array(16)))
    const json = await seal(key, JSON.stringify({ watermark: { appid: APP_ID } }))
    expectError(
      await call('POST', '/auth/decrypt', { token: user.token, json }),
      400,
      'DECRYPT_FAILED',
    )
  })

  it.each([
    ['valid padding, not JSON', 'hello, not json'],
    ['a JSON array', '[1,2,3]'],
    ['no watermark', '{"nickName":"x"}'],
  ])('rejects %s under the right key', async (_name, plaintext) => {
    const json = await seal(await emulatedSessionKey(user.openid), plaintext)
    expectError(
      await call('POST', '/auth/decrypt', { token: user.token, json }),
      400,
      'DECRYPT_FAILED',
    )
  })

  it('rejects a watermark of another appid', async () => {
    const { encryptedData, iv } = await userData(user.openid, profile, {
      appid: 'wxanotherapp0000',
    })
    const res = await call('POST', '/auth/decrypt', {
      token: user.token,
      json: { encryptedData, iv },
    })
    expectError(res, 400, 'DECRYPT_FAILED')
  })

  it.each([
    ['no body fields', {}],
    ['no iv', { encryptedData: 'AAAA' }],
    ['no encryptedData', { iv: 'AAAA' }],
    ['numbers', { encryptedData: 1, iv: 2 }],
    ['encryptedData over 12 KiB', { encryptedData: 'A'.repeat(12 * 1024 + 4), iv: 'AAAA' }],
  ])('rejects %s', async (_name, json) => {
    expectError(
      await call('POST', '/auth/decrypt', { token: user.token, json }),
      400,
      'INVALID_REQUEST',
    )
  })

  it('rejects a body that is not JSON, and one over 16 KiB', async () => {
    expectError(
      await call('POST', '/auth/decrypt', { token: user.token, body: '{"iv":' }),
      400,
      'INVALID_JSON',
    )
    const huge = { ...good, encryptedData: 'A'.repeat(20_000) }
    expectError(
      await call('POST', '/auth/decrypt', { token: user.token, json: huge }),
      413,
      'PAYLOAD_TOO_LARGE',
    )
  })

  it('tells the client the same thing whatever check failed', async () => {
    const answers = new Set<string>()
    for (const [, corrupt] of corruptions) {
      const res = await call('POST', '/auth/decrypt', { token: user.token, json: corrupt(good) })
      answers.add(res.text)
    }
    expect(answers.size).toBe(1)
  })
})

describe('POST /auth/phone', () => {
  it('needs a login', async () => {
    expectError(await call('POST', '/auth/phone', { json: { code: 'x' } }), 401, 'AUTH_REQUIRED')
  })

  it('returns the phone number and hands it to onPhoneNumber', async () => {
    const { app, phones } = hookedApp()
    const openid = newOpenid()
    const { token } = await login(openid, app)
    const code = await phoneCode(openid, '13800138000')
    const res = await call('POST', '/auth/phone', { token, json: { code } }, app)
    expect(res.status, res.text).toBe(200)
    const phone = { phoneNumber: '13800138000', purePhoneNumber: '13800138000', countryCode: '86' }
    expect(res.body).toEqual({ phone })
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(phones).toEqual([
      [phone, { id: await defaultUserId(APP_ID, openid), platform: 'wechat', openid }],
    ])
  })

  it('rejects a code used twice, an unknown code and an expired one (40029)', async () => {
    const { openid, token } = await loggedIn()
    const code = await phoneCode(openid, '13800138001')
    expect((await call('POST', '/auth/phone', { token, json: { code } })).status).toBe(200)
    expectError(
      await call('POST', '/auth/phone', { token, json: { code } }),
      400,
      'PHONE_CODE_INVALID',
    )
    expectError(
      await call('POST', '/auth/phone', { token, json: { code: 'nope' } }),
      400,
      'PHONE_CODE_INVALID',
    )
    const old = await phoneCode(openid, '13800138001', { age: 301 })
    expectError(
      await call('POST', '/auth/phone', { token, json: { code: old } }),
      400,
      'PHONE_CODE_INVALID',
    )
  })

  it.each([
    ['no code', {}],
    ['an empty code', { code: '' }],
    ['a code with spaces', { code: 'a b' }],
    ['a code too long', { code: 'x'.repeat(129) }],
  ])('rejects %s', async (_name, json) => {
    const { token } = await loggedIn()
    expectError(await call('POST', '/auth/phone', { token, json }), 400, 'INVALID_REQUEST')
  })

  it('rejects a body over 16 KiB', async () => {
    const { token } = await loggedIn()
    const json = { code: 'a', pad: 'x'.repeat(20_000) }
    expectError(await call('POST', '/auth/phone', { token, json }), 413, 'PAYLOAD_TOO_LARGE')
  })
})

describe('the stable access token behind /auth/phone', () => {
  const key = accessTokenKey(APP_ID)
  const cachedToken = async () => (await openKv<{ accessToken: string }>(key))?.accessToken
  const phoneCall = async (user: { openid: string; token: string }) => {
    const code = await phoneCode(user.openid, '13900139000')
    return call('POST', '/auth/phone', { token: user.token, json: { code } })
  }

  it('is fetched once for two concurrent requests on a cold cache, then cached below expires_in', async () => {
    const [a, b] = [await loggedIn(), await loggedIn()]
    await testEnv.SESSIONS.delete(key)
    const codes = [
      await phoneCode(a.openid, '13900139001'),
      await phoneCode(b.openid, '13900139002'),
    ]
    const before = await stableTokenCalls()
    const start = Math.floor(Date.now() / 1000)
    const replies = await Promise.all(
      [a, b].map(({ token }, i) =>
        call('POST', '/auth/phone', { token, json: { code: codes[i] } }),
      ),
    )
    for (const res of replies) expect(res.status, res.text).toBe(200)
    expect((await stableTokenCalls()) - before).toBe(1)

    const [entry] = await kvKeys(key)
    expect(entry?.name).toBe(`wx:access_token:${APP_ID}`)
    // expires_in 7200 s minus the 300 s margin.
    expect(entry?.expiration).toBeGreaterThanOrEqual(start + 6900 - 2)
    expect(entry?.expiration).toBeLessThanOrEqual(start + 6900 + 2)

    expect((await phoneCall(a)).status).toBe(200)
    expect((await stableTokenCalls()) - before).toBe(1)
  })

  it.each([
    ['invalidated (40001)', { invalidate: true }],
    ['expired (42001)', { expire: true }],
  ])(
    'is refreshed once when WeChat says it is %s, and the request succeeds',
    async (_name, change) => {
      const user = await loggedIn()
      expect((await phoneCall(user)).status).toBe(200)
      const old = await cachedToken()
      expect(old).toBeTruthy()
      const before = await stableTokenCalls(change)
      const res = await phoneCall(user)
      expect(res.status, res.text).toBe(200)
      expect((await stableTokenCalls()) - before).toBe(1)
      expect(await cachedToken()).not.toBe(old)
    },
  )

  it('never appears in a response or a log', async () => {
    const logged: unknown[] = []
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args) => {
        logged.push(...args)
      }),
    )
    try {
      const user = await loggedIn()
      await testEnv.SESSIONS.delete(key)
      const texts = [(await phoneCall(user)).text]
      await stableTokenCalls({ invalidate: true })
      texts.push((await phoneCall(user)).text)
      texts.push(
        (await call('POST', '/auth/phone', { token: user.token, json: { code: 'used' } })).text,
      )
      texts.push((await call('GET', '/__emulator/access-token')).text)
      texts.push((await call('GET', `/__emulator/users/${user.openid}`)).text)
      const token = await cachedToken()
      expect(token).toMatch(/^emu_/)
      expect(logged.length).toBeGreaterThan(0) // the refresh is logged, without the token
      for (const text of [...texts, ...logged.map(String)]) expect(text).not.toContain(token)
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
  })
})
