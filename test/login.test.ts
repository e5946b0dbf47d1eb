import { runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { DEFAULT_ACCESS_TOKEN_TTL, DEFAULT_SESSION_TTL } from '../src/config'
import { EMULATOR_APP_SECRET, emulatorStub } from '../src/emulator/stub'
import { defaultUserId } from '../src/hooks'
import type { UserSessions } from '../src/runtime/cloudflare/object'
import type { IdentityRecord } from '../src/session/identities'
import {
  call,
  codeFor,
  decodeJwt,
  emulate,
  emulatedSessionKey,
  expectError,
  kvKeys,
  login,
  newOpenid,
  readAtEdge,
  testEnv,
  testIdentities,
  userData,
} from './helpers'

const APP_ID = 'wx00000000emulator'
const store = () => testIdentities()
const sessionObject = (uid: string) => {
  const ns = testEnv.USER_SESSIONS as DurableObjectNamespace<UserSessions>
  return ns.get(ns.idFromName(uid))
}

describe('POST /auth/login', () => {
  it('exchanges a wx.login code for a token, a session and the user', async () => {
    const openid = newOpenid()
    const code = await codeFor(openid)
    const before = Math.floor(Date.now() / 1000)
    const res = await call('POST', '/auth/login', { json: { code } })
    expect(res.status, res.text).toBe(200)
    const uid = await defaultUserId(APP_ID, openid)
    expect(res.body).toEqual({
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      tokenType: 'JWT',
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      expiresIn: DEFAULT_ACCESS_TOKEN_TTL,
      refreshToken: expect.stringMatching(/^[\w-]{100,400}$/),
      refreshExpiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      user: { id: uid, platform: 'wechat', openid },
    })
    expect(res.headers.get('cache-control')).toBe('no-store')

    const { header, payload } = decodeJwt(res.body.token)
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'main' })
    expect(payload).toEqual({
      sub: uid,
      sid: expect.stringMatching(/^[\w-]{43}$/),
      gen: 0,
      iat: expect.any(Number),
      exp: payload.iat + DEFAULT_ACCESS_TOKEN_TTL,
      iss: 'wxa-auth',
      aud: APP_ID,
    })
    expect(payload.sub).not.toBe(openid)
    expect(Date.parse(res.body.expiresAt) / 1000).toBe(payload.exp)
    expect(Date.parse(res.body.refreshExpiresAt) / 1000).toBe(payload.iat + DEFAULT_SESSION_TTL)

    // A login writes no session to KV; the first read at the edge does: one
    // session under the user's prefix, keyed by a hash (never the sid itself),
    // expiring with the session (the refresh token); one identity record.
    expect(await kvKeys(`session:${uid}:`)).toEqual([])
    await readAtEdge(res.body.token)
    const sessions = await kvKeys(`session:${uid}:`)
    expect(sessions).toHaveLength(1)
    expect(sessions[0]?.name).not.toContain(payload.sid)
    expect(sessions[0]?.expiration).toBeGreaterThanOrEqual(before + DEFAULT_SESSION_TTL)
    expect(sessions[0]?.expiration).toBeLessThanOrEqual(payload.iat + DEFAULT_SESSION_TTL + 1)
    expect(await kvKeys(`identity:${APP_ID}:${openid}`)).toHaveLength(1)
  })

  it('keeps the unionid when WeChat sends one', async () => {
    const openid = newOpenid()
    await emulate(openid, { unionid: 'union-42' })
    const { user } = await login(openid)
    expect(user).toEqual({
      id: expect.any(String),
      platform: 'wechat',
      openid,
      unionid: 'union-42',
    })
  })

  it('gives each login its own session', async () => {
    const openid = newOpenid()
    const first = await login(openid)
    const second = await login(openid)
    expect(decodeJwt(first.token).payload.sid).not.toBe(decodeJwt(second.token).payload.sid)
    const keys = [await readAtEdge(first.token), await readAtEdge(second.token)]
    expect(new Set(keys).size).toBe(2)
    expect(await kvKeys(`session:${first.user.id}:`)).toHaveLength(2)
    expect((await call('GET', '/me', { token: first.token })).status).toBe(200)
    expect((await call('GET', '/me', { token: second.token })).status).toBe(200)
  })

  it('keeps the newest session_key sealed in the user’s session object, not in the identity', async () => {
    const openid = newOpenid()
    const first = await login(openid)
    await call('POST', `/__emulator/users/${openid}/rotate-session-key`)
    await login(openid)
    const newest = await emulatedSessionKey(openid)
    expect((await store().get(APP_ID, openid, 'wechat'))?.sessionKey).toBeUndefined()
    const stored = await runInDurableObject(sessionObject(first.user.id), (_o, state) =>
      state.storage.sql
        .exec<{ value: string }>(
          `SELECT session_key AS value FROM sessions WHERE key_slot = 'wechat:' || ?
           ORDER BY created_ms DESC LIMIT 1`,
          APP_ID,
        )
        .toArray(),
    )
    // In the newest login's session row (see `sql-keys.ts`), sealed.
    expect(stored).toHaveLength(1)
    expect(stored[0]?.value).toMatch(/^v1\.[\w-]{16}\.[\w-]+$/)
    expect(stored[0]?.value).not.toContain(newest)
    // The first session, older than the rotation, decrypts with the newest key.
    const sealed = await userData(openid, { nickName: 'Ada' })
    const res = await call('POST', '/auth/decrypt', {
      token: first.token,
      json: { encryptedData: sealed.encryptedData, iv: sealed.iv },
    })
    expect([res.status, res.body?.data?.nickName]).toEqual([200, 'Ada'])
  })

  it('a session of 0.2, whose key is in the identity, still decrypts; the next login moves it', async () => {
    const openid = newOpenid()
    const { token, user } = await login(openid)
    // As 0.2 left it: the key in the identity, none in the object.
    const identity = await store().get(APP_ID, openid, 'wechat')
    const sessionKey = await emulatedSessionKey(openid)
    await store().put(APP_ID, openid, { ...(identity as IdentityRecord), sessionKey }, 'wechat')
    await runInDurableObject(sessionObject(user.id), (_o, state) => {
      state.storage.sql.exec("DELETE FROM meta WHERE key LIKE 'key:%'")
      state.storage.sql.exec('UPDATE sessions SET key_slot = NULL, session_key = NULL')
    })
    const sealed = await userData(openid, { nickName: 'Bo' })
    const json = { encryptedData: sealed.encryptedData, iv: sealed.iv }
    expect((await call('POST', '/auth/decrypt', { token, json })).status).toBe(200)
    await login(openid)
    expect((await store().get(APP_ID, openid, 'wechat'))?.sessionKey).toBeUndefined()
    expect((await call('POST', '/auth/decrypt', { token, json })).status).toBe(200)
  })

  it('never sends the session_key or the AppSecret to the client', async () => {
    const openid = newOpenid()
    const res = await login(openid)
    const sessionKey = await emulatedSessionKey(openid)
    expect(sessionKey).toMatch(/^[A-Za-z0-9+/]{22}==$/)
    const me = await call('GET', '/me', { token: res.token })
    const exposed = [JSON.stringify(res), JSON.stringify(decodeJwt(res.token)), me.text]
    for (const text of exposed) {
      expect(text).not.toContain(sessionKey)
      expect(text).not.toContain(EMULATOR_APP_SECRET)
    }
  })
})

describe('POST /auth/login with bad input', () => {
  it('rejects a body that is not JSON', async () => {
    expectError(await call('POST', '/auth/login', { body: '{"code":' }), 400, 'INVALID_JSON')
    expectError(await call('POST', '/auth/login', { body: '' }), 400, 'INVALID_JSON')
  })

  it.each([
    ['no code', {}],
    ['a code that is a number', { code: 42 }],
    ['an empty code', { code: '' }],
    ['a code with spaces', { code: 'a b' }],
    ['a code too long', { code: 'x'.repeat(129) }],
    ['an array body', [1, 2]],
    ['a null body', null],
    ['only a __proto__ key', JSON.parse('{"__proto__":{"code":"abc"}}')],
  ])('rejects %s', async (_name, json) => {
    expectError(await call('POST', '/auth/login', { json }), 400, 'INVALID_REQUEST')
  })

  it('rejects a body over 16 KiB before reading it', async () => {
    const res = await call('POST', '/auth/login', { json: { code: 'a', pad: 'x'.repeat(20_000) } })
    expectError(res, 413, 'PAYLOAD_TOO_LARGE')
  })
})

describe('POST /auth/login when WeChat says no', () => {
  it('rejects a code used twice (40163)', async () => {
    const code = await codeFor(newOpenid())
    expect((await call('POST', '/auth/login', { json: { code } })).status).toBe(200)
    expectError(await call('POST', '/auth/login', { json: { code } }), 401, 'CODE_USED')
  })

  it('rejects an unknown code (40029)', async () => {
    const res = await call('POST', '/auth/login', { json: { code: 'not-a-code-we-issued' } })
    expectError(res, 401, 'CODE_INVALID')
  })

  it('rejects a code older than 5 minutes (40029)', async () => {
    const code = await codeFor(newOpenid(), { age: 301 })
    expectError(await call('POST', '/auth/login', { json: { code } }), 401, 'CODE_INVALID')
  })

  it('rejects a user WeChat blocked (40226) with 403', async () => {
    const openid = newOpenid()
    await emulate(openid, { blocked: true })
    const code = await codeFor(openid)
    expectError(await call('POST', '/auth/login', { json: { code } }), 403, 'USER_BLOCKED')
  })

  it('answers 429 with Retry-After past 100 code2Session calls a minute (45011)', async () => {
    const openid = newOpenid()
    const stub = emulatorStub(testEnv)
    for (let i = 0; i < 100; i++) {
      const code = await codeFor(openid)
      const query = new URLSearchParams({
        appid: APP_ID,
        secret: EMULATOR_APP_SECRET,
        js_code: code,
        grant_type: 'authorization_code',
      })
      const res = await stub.fetch(`https://api.weixin.qq.com/sns/jscode2session?${query}`)
      expect((await res.json()) as object).toHaveProperty('openid', openid)
    }
    const code = await codeFor(openid)
    const res = await call('POST', '/auth/login', { json: { code } })
    expectError(res, 429, 'UPSTREAM_RATE_LIMITED')
    expect(res.headers.get('retry-after')).toBe('60')
  })
})

describe('POST /auth/login when WeChat fails', () => {
  const stats = async (openid: string) =>
    (await call<{ calls: number }>('GET', `/__emulator/users/${openid}`)).body

  it('retries errcode -1 and succeeds', async () => {
    const openid = newOpenid()
    await emulate(openid, { fault: 'busy', times: 1 })
    await login(openid)
    expect((await stats(openid)).calls).toBe(2)
  })

  it('gives up on errcode -1 after bounded retries with 503 and writes no session', async () => {
    const openid = newOpenid()
    await emulate(openid, { fault: 'busy' })
    const code = await codeFor(openid)
    const res = await call('POST', '/auth/login', { json: { code } })
    expectError(res, 503, 'UPSTREAM_UNAVAILABLE')
    expect(res.headers.get('retry-after')).toBe('5')
    expect((await stats(openid)).calls).toBe(3)
    expect(await kvKeys(`session:${await defaultUserId(APP_ID, openid)}:`)).toEqual([])
    expect(await kvKeys(`identity:${APP_ID}:${openid}`)).toEqual([])
  })

  it('answers 504 when WeChat hangs, and writes no session', async () => {
    const openid = newOpenid()
    await emulate(openid, { fault: 'hang', hangMs: 3_000 })
    const code = await codeFor(openid)
    const res = await call('POST', '/auth/login', { json: { code } })
    expectError(res, 504, 'UPSTREAM_TIMEOUT')
    expect(await kvKeys(`session:${await defaultUserId(APP_ID, openid)}:`)).toEqual([])
  })

  it('answers 502 when WeChat returns an HTML page, and writes no session', async () => {
    const openid = newOpenid()
    await emulate(openid, { fault: 'html' })
    const code = await codeFor(openid)
    const res = await call('POST', '/auth/login', { json: { code } })
    expectError(res, 502, 'UPSTREAM_BAD_RESPONSE')
    expect(await kvKeys(`session:${await defaultUserId(APP_ID, openid)}:`)).toEqual([])
  })
})

describe('device hints that do not fit KV metadata (review of 0.1, finding 5)', () => {
  const cjk = '设备型号很长的名字'.repeat(8).slice(0, 64)

  it('refuses oversized hints with 400 before the code is spent', async () => {
    const openid = newOpenid()
    const code = await codeFor(openid)
    const device = { platform: cjk, system: cjk, model: cjk, brand: cjk, version: cjk }
    const res = await call('POST', '/auth/login', { json: { code, device } })
    expectError(res, 400, 'INVALID_REQUEST')
    expect(res.body.error.message).toContain('device')
    // The code is still good.
    expect((await call('POST', '/auth/login', { json: { code } })).status).toBe(200)
  })

  it('cuts a User-Agent full of escapes to fit, and the login succeeds', async () => {
    const code = await codeFor(newOpenid())
    const device = { model: cjk, brand: '"\\"\\"\\'.repeat(10) }
    const headers = { 'User-Agent': `${'"\\\u0001'.repeat(40)}${cjk}${cjk}` }
    const res = await call('POST', '/auth/login', { json: { code, device }, headers })
    expect(res.status, res.text).toBe(200)
    const sessions = await call('GET', '/auth/sessions', { token: res.body.token })
    const [listed] = sessions.body.sessions
    expect(listed.device.model).toBe(cjk)
    expect(headers['User-Agent'].startsWith(listed.device.userAgent)).toBe(true)
  })
})
