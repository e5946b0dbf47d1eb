// The security review of 0.1: each describe is one finding, reproduced.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { addressKey } from '../src/middleware/rate-limit'
import { parseSecrets } from '../src/token/keys'
import { BoundedMap } from '../src/util/bounded-map'
import {
  call,
  codeFor,
  configError,
  configFromEnv,
  decodeJwt,
  emulate,
  expectError,
  login,
  newOpenid,
  PRODUCTION_SECRET,
  phoneCode,
  production,
  refreshWith,
  served,
  testApp,
  testEnv,
} from './helpers'

const KEY = PRODUCTION_SECRET
/** Every run of 8 characters of `value` that `text` contains. */
const leaked = (text: string, value: string) => {
  const runs: string[] = []
  for (let i = 0; i + 8 <= value.length; i++) {
    if (text.includes(value.slice(i, i + 8))) runs.push(value.slice(i, i + 8))
  }
  return runs
}

afterEach(() => vi.restoreAllMocks())

describe('1. JWT_SECRETS entries without a kid', () => {
  it.each([
    ['no colon', KEY],
    ['empty kid', `:${KEY}`],
    ['empty secret', 'main:'],
    ['one good, one bare', `new:${KEY} ${KEY}`],
  ])('refuses %s', (_what, JWT_SECRETS) => {
    expect(configError(production({ JWT_SECRETS }))).toContain('JWT_SECRETS')
  })

  it('never puts any part of a secret into a token header', async () => {
    // The easy mistake: JWT_SECRETS set to a bare secret. Today its first 31 characters become the kid.
    const app = served(testApp(), production({ JWT_SECRETS: KEY }))
    const res = await call('POST', '/auth/login', { json: { code: 'x' } }, app)
    expectError(res, 500, 'CONFIG_INVALID')
    expect(res.headers.get('authorization')).toBeNull()
  })

  it.each([
    ['JWT_SECRETS', { JWT_SECRETS: 'hunter2-password' }],
    ['JWT_SECRETS', { JWT_SECRETS: `k1:${KEY} k1:${KEY}x` }],
    ['JWT_SECRET', { JWT_SECRET: 'hunter2-password' }],
    ['STORAGE_SECRET', { STORAGE_SECRET: 'hunter2-password' }],
    ['WECHAT_APP_ID', { WECHAT_APP_ID: 'hunter2-password' }],
    ['WECHAT_API_BASE', { WECHAT_API_BASE: 'ftp://hunter2-password.example' }],
    ['WECHAT_APP_SECRETS', { WECHAT_APP_SECRET: '', WECHAT_APP_SECRETS: 'hunter2-password' }],
  ])('%s: the client sees the variable named, and no part of its value', async (name, vars) => {
    const value = Object.values(vars).find((v) => v !== '') as string
    const app = served(testApp(), production(vars))
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    const res = await call('POST', '/auth/login', { json: { code: 'x' } }, app)
    expectError(res, 500, 'CONFIG_INVALID')
    expect(res.body.error.message).toContain(name)
    expect(leaked(res.text, value.replace(/^ftp:\/\//, ''))).toEqual([])
    expect(leaked(JSON.stringify(logged.mock.calls), value.replace(/^ftp:\/\//, ''))).toEqual([])
  })
})

describe('2. session data has a size limit', () => {
  it('answers 413 SESSION_TOO_LARGE past MAX_SESSION_BYTES and keeps the session as it was', async () => {
    const { token } = await login()
    const chunk = 'x'.repeat(6000)
    expect((await call('PATCH', '/me/session', { token, json: { a: chunk } })).status).toBe(200)
    expect((await call('PATCH', '/me/session', { token, json: { b: chunk } })).status).toBe(200)
    const res = await call('PATCH', '/me/session', { token, json: { c: chunk } })
    expectError(res, 413, 'SESSION_TOO_LARGE')
    const me = await call('GET', '/me', { token })
    expect(Object.keys(me.body.session)).toEqual(['a', 'b'])
    // Deleting still works on a session at the limit.
    expect((await call('PATCH', '/me/session', { token, json: { a: null } })).status).toBe(200)
  })

  it('takes MAX_SESSION_BYTES from the environment', async () => {
    const env = { ...testEnv, MAX_SESSION_BYTES: '100' }
    const app = served(testApp(), env)
    const { token } = await login(undefined, app)
    expect(
      (await call('PATCH', '/me/session', { token, json: { a: 'x'.repeat(50) } }, app)).status,
    ).toBe(200)
    expectError(
      await call('PATCH', '/me/session', { token, json: { b: 'x'.repeat(50) } }, app),
      413,
      'SESSION_TOO_LARGE',
    )
  })

  it('bounds the in-isolate caches by bytes as well as entries', () => {
    const map = new BoundedMap<string, string>(1000, { maxBytes: 100, sizeOf: (v) => v.length })
    for (let i = 0; i < 10; i++) map.set(`k${i}`, 'x'.repeat(30))
    expect(map.size).toBe(3)
    expect(map.bytes).toBeLessThanOrEqual(100)
    expect(map.get('k9')).toBeDefined()
    expect(map.get('k0')).toBeUndefined()
    // A single value over the budget is not kept at all.
    map.set('big', 'x'.repeat(101))
    expect(map.get('big')).toBeUndefined()
    expect(map.bytes).toBeLessThanOrEqual(100)
  })
})

describe('3. single-use codes are not retried after a failure that may have spent them', () => {
  it('login: WeChat spends the code and answers 502: 503 WECHAT_UNAVAILABLE, one call', async () => {
    const openid = newOpenid()
    const code = await codeFor(openid)
    await emulate(openid, { fault: 'spend', times: 1 })
    const before = (await emulate(openid, {})).calls
    const res = await call('POST', '/auth/login', { json: { code } })
    expectError(res, 503, 'UPSTREAM_UNAVAILABLE')
    expect((await emulate(openid, {})).calls).toBe(before + 1)
  })

  it('phone: WeChat spends the code and answers 502: 503 WECHAT_UNAVAILABLE, not a lost lookup', async () => {
    const { openid, token } = await login()
    const code = await phoneCode(openid, '13800138000')
    await emulate(openid, { fault: 'spend', times: 1 })
    const res = await call('POST', '/auth/phone', { token, json: { code } })
    expectError(res, 503, 'UPSTREAM_UNAVAILABLE')
  })

  it('still retries errcode -1, which WeChat says did nothing', async () => {
    const openid = newOpenid()
    const code = await codeFor(openid)
    await emulate(openid, { fault: 'busy', times: 1 })
    expect((await call('POST', '/auth/login', { json: { code } })).status).toBe(200)
  })
})

describe('4. secrets that are visibly not random', () => {
  it.each([
    ['the .dev.vars.example placeholder', 'first-secret-of-at-least-32-chars'],
    ['the second placeholder', 'older-secret-of-at-least-32-chars'],
    ['one repeated character', 'a'.repeat(40)],
    ['few distinct characters', 'abcabcabcabcabcabcabcabcabcabcabcabc'],
    ['a placeholder word', 'replace-me-with-a-long-random-string-0123'],
  ])('refuses %s as JWT_SECRET and STORAGE_SECRET', (_what, value) => {
    for (const name of ['JWT_SECRET', 'STORAGE_SECRET'] as const) {
      const message = configError(production({ [name]: value }))
      expect(message).toContain(name)
      expect(leaked(message, value)).toEqual([])
    }
    expect(configError(production({ JWT_SECRETS: `k:${value}` }))).toContain('JWT_SECRETS')
  })

  it('refuses the rotation example of .dev.vars.example as it stands', () => {
    const example = '2026-11:<paste openssl rand -base64 32> 2026-05:<the previous secret>'
    expect(configError(production({ JWT_SECRETS: example }))).toContain('JWT_SECRETS')
  })

  it('accepts what openssl rand gives', () => {
    expect(
      parseSecrets({ JWT_SECRET: 'pQ9Y0bXb3wFhC1Jx8+Rk5nL2vT7sZ4dM6aE0uGq1WcI=' }),
    ).toHaveLength(1)
    expect(parseSecrets({ JWT_SECRET: '9f86d081884c7d659a2feaa0c55ad015' })).toHaveLength(1)
  })
})

describe('5. device hints that do not fit KV metadata', () => {
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

describe('6. WECHAT_API_BASE', () => {
  it.each([
    'http://api.weixin.qq.com',
    'http://relay.example.com:8080',
    'ftp://api.weixin.qq.com',
    'api.weixin.qq.com',
    'https://user:pass@relay.example.com',
  ])('refuses %s', (base) => {
    expect(configError(production({ WECHAT_API_BASE: base }))).toContain('WECHAT_API_BASE')
  })

  it.each(['https://relay.example.com/wechat', 'http://127.0.0.1:8788', 'http://localhost:8788'])(
    'accepts %s',
    (base) => {
      expect(() => configFromEnv(production({ WECHAT_API_BASE: base }))).not.toThrow()
    },
  )

  it('never logs a URL with its secret-bearing query', async () => {
    // The upstream a development entry would inject, here a relay that fails quoting the URL.
    const app = served(
      testApp({
        upstream: () => ({
          wechat: {
            appSecret: 'app-secret-hunter2',
            fetch: (input) => Promise.reject(new TypeError(`Fetch failed: ${String(input)}`)),
          },
        }),
      }),
      production({ WECHAT_APP_SECRET: undefined }),
    )
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    const res = await call('POST', '/auth/login', { json: { code: 'the-js-code-1234' } }, app)
    expectError(res, 503, 'UPSTREAM_UNAVAILABLE')
    const log = JSON.stringify(logged.mock.calls)
    expect(log).toContain('secret=')
    for (const value of ['hunter2', 'the-js-code-1234']) expect(log).not.toContain(value)
  })
})

describe('7. the login rate limit', () => {
  it('keys IPv6 clients by their /64', () => {
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:DB8:1:2::7')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1')
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1')
  })

  it('counts every address of one /64 together', async () => {
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:64`
    const statuses: number[] = []
    for (let i = 0; i < 31; i++) {
      const headers = { 'CF-Connecting-IP': `${prefix}::${(i + 1).toString(16)}` }
      statuses.push((await call('POST', '/auth/login', { json: {}, headers })).status)
    }
    expect(statuses.slice(0, 30).every((s) => s === 400)).toBe(true)
    expect(statuses[30]).toBe(429)
  })

  it('says once in the log when requests carry no CF-Connecting-IP', async () => {
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const app = served(testApp())
    for (let i = 0; i < 3; i++) {
      const res = await app.fetch('http://wxa.test/auth/login', { method: 'POST', body: '{}' })
      expect(res.status).toBe(400)
    }
    const lines = warned.mock.calls.filter((args) => String(args[0]).includes('CF-Connecting-IP'))
    expect(lines.length).toBe(1)
  })
})

describe('8. an absolute session lifetime', () => {
  it('stops sliding expiry at SESSION_MAX_AGE after login, then refresh is 401', async () => {
    let clock = Math.floor(Date.now() / 1000)
    const env = { ...testEnv, SESSION_TTL: '3600', SESSION_MAX_AGE: '7200' }
    const app = served(testApp({ now: () => clock }), env)
    const start = clock
    let { token, refreshToken } = await login(undefined, app)
    for (const at of [1900, 3800, 5700, 7000]) {
      clock = start + at
      const res = await refreshWith(refreshToken, app)
      expect(res.status, res.text).toBe(200)
      ;({ token, refreshToken } = res.body)
      expect(decodeJwt(token).payload.exp).toBeLessThanOrEqual(start + 7200)
      expect(Date.parse(res.body.refreshExpiresAt) / 1000).toBeLessThanOrEqual(start + 7200)
    }
    clock = start + 7201
    expectError(await refreshWith(refreshToken, app), 401, 'SESSION_EXPIRED')
    expectError(await call('GET', '/me', { token }, app), 401, 'SESSION_EXPIRED')
  })

  it('defaults to 90 days', () => {
    expect(configFromEnv(production()).policy.maxAge).toBe(90 * 24 * 60 * 60)
    expect(configError(production({ SESSION_MAX_AGE: '10' }))).toContain('SESSION_MAX_AGE')
  })
})
