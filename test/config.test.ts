import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import type { WxaBindings } from '../src/env'
import { parseSecrets } from '../src/token/keys'
import worker from '../src/worker'
import {
  call,
  configError,
  configFromEnv,
  expectError,
  PRODUCTION_SECRET,
  production,
  served,
  testApp,
} from './helpers'

const SECRET = PRODUCTION_SECRET

afterEach(() => vi.restoreAllMocks())
/** Every run of 8 characters of `value` that `text` contains. */
const leaked = (text: string, value: string) => {
  const runs: string[] = []
  for (let i = 0; i + 8 <= value.length; i++) {
    if (text.includes(value.slice(i, i + 8))) runs.push(value.slice(i, i + 8))
  }
  return runs
}
describe('the configuration', () => {
  it('reads a complete production environment', () => {
    const config = configFromEnv(production({ SESSION_TTL: '3600', JWT_ISSUER: 'me' }))
    expect(config).toMatchObject({
      defaultAppId: 'wx0123456789abcdef',
      issuer: 'me',
      audience: 'wx0123456789abcdef',
      policy: {
        ttl: 3600,
        maxAge: 90 * 24 * 60 * 60,
        maxBytes: 16 * 1024,
        maxSessions: 10,
        grace: 30,
      },
      secrets: [{ kid: 'main', secret: SECRET }],
    })
  })

  it.each([
    ['WECHAT_APP_ID', { WECHAT_APP_ID: '' }],
    ['WECHAT_APP_SECRET', { WECHAT_APP_SECRET: undefined }],
    ['JWT_SECRET', { JWT_SECRET: undefined }],
    ['SESSION_TTL', { SESSION_TTL: '59' }],
    ['SESSION_TTL', { SESSION_TTL: 'a month' }],
    ['JWT_SECRET', { JWT_SECRET: 'short' }],
    ['STORAGE_SECRET', { STORAGE_SECRET: undefined }],
    ['STORAGE_SECRET', { STORAGE_SECRET: 'short' }],
    ['MAX_SESSIONS', { MAX_SESSIONS: '0' }],
    ['JWT_SECRETS', { JWT_SECRETS: `a:${SECRET} a:${SECRET}` }],
    ['SESSIONS', { SESSIONS: undefined as unknown as KVNamespace }],
    ['CLOUD_HOSTING', { CLOUD_HOSTING: 'tencent' }],
    ['CBR_ENV_ID', { CLOUD_HOSTING: 'wechat' }],
    ['WECHAT_OPEN_API', { WECHAT_OPEN_API: 'yes', CLOUD_HOSTING: 'wechat', CBR_ENV_ID: 'e' }],
    ['CLOUD_HOSTING=wechat', { WECHAT_OPEN_API: 'cloud-hosting' }],
  ])('names %s when it is missing or wrong', (name, vars) => {
    expect(configError(production(vars))).toContain(name)
  })

  describe('guessable secrets are refused, naming the variable and never the value', () => {
    const GUESSABLE = 'password1234567890password1234567'
    it.each([
      ['JWT_SECRET', { JWT_SECRET: GUESSABLE }],
      ['JWT_SECRETS (entry 2)', { JWT_SECRETS: `new:${SECRET} old:${GUESSABLE}` }],
      ['STORAGE_SECRET', { STORAGE_SECRET: GUESSABLE }],
      // The Token is 32 letters or digits, as WeChat takes it.
      ['WECHAT_EVENT_TOKEN', { WECHAT_EVENT_TOKEN: GUESSABLE.slice(0, 32) }],
    ])('%s', (name, vars) => {
      const message = configError(production(vars))
      expect(message).toContain(`${name} does not look random`)
      expect(message).not.toContain('password')
      expect(message).not.toContain('1234')
    })

    it.each([
      ['a dictionary word with digits', 'Sunshine2024!Sunshine2024!Summer#'],
      ['leetspeak', 'P4ssw0rd!Adm1n#Secr3t$W3lc0me%Dr4gon'],
      ['keyboard runs', 'qwertyuiop[]asdfghjkl;zxcvbnm,./!@#'],
      ['digit and letter runs', '0123456789abcdefghijklmnopqrstuvwxyz'],
      ['a repeated half', 'Xk9#mQ2pL7vR3tY8Xk9#mQ2pL7vR3tY8'],
      ['a repeated short unit', 'a1B2c3a1B2c3a1B2c3a1B2c3a1B2c3a1B2c3'],
      ['words and runs', 'monkeydragon98765letmein4321master'],
    ])('%s', (_, value) => {
      expect(configError(production({ JWT_SECRET: value }))).toContain(
        'JWT_SECRET does not look random',
      )
    })
  })

  it('takes the Cloud Hosting mode only where Cloud Hosting runs it (CBR_ENV_ID)', () => {
    expect(configFromEnv(production({})).headerLogin).toBeUndefined()
    const vars = { CLOUD_HOSTING: 'wechat', CBR_ENV_ID: 'prod-1', WECHAT_OPEN_API: 'cloud-hosting' }
    expect(configFromEnv(production(vars)).headerLogin?.platform).toBe('wechat')
  })

  it('says a missing WECHAT_APP_ID may be an environment that did not repeat [vars]', () => {
    // A real AppSecret in .dev.vars turns the emulator off; [env.dev] without its
    // own vars then has no AppID, although the top level's [vars] has one.
    const message = configError(production({ WECHAT_APP_ID: undefined }))
    expect(message).toContain('wrangler.toml [vars]')
    expect(message).toContain('[env.<name>.vars]')
    expect(message).toContain('does not inherit [vars]')
  })

  it.each([
    ['WECHAT_APP_SECRET is not an AppSecret', { WECHAT_APP_SECRET: 'app-secret' }],
    ['WECHAT_APP_SECRET is not an AppSecret', { WECHAT_APP_SECRET: `${'a'.repeat(31)}g` }],
    ['WECHAT_APP_SECRET is not an AppSecret', { WECHAT_APP_SECRET: 'f'.repeat(33) }],
    [
      'WECHAT_APP_SECRETS: the secret for wx0123456789abcdef is not an AppSecret',
      { WECHAT_APP_SECRET: undefined, WECHAT_APP_SECRETS: 'wx0123456789abcdef:wx-secret-value' },
    ],
  ])('checks the AppSecret is 32 hex characters: %s', (expected, vars) => {
    const message = configError(production(vars))
    expect(message).toContain(
      `${expected}: it is 32 hexadecimal characters, as the mini program admin's 开发管理 → 开发设置 shows it.`,
    )
    // On Workers, the way to set a secret follows: the message is written once, the runtime says how.
    expect(message).toMatch(/Set it with `wrangler secret put WECHAT_APP_SECRETS?`/)
    for (const value of Object.values(vars)) if (value) expect(message).not.toContain(value)
  })

  it("takes an AppSecret in either case, and leaves the emulator's stand-in alone", async () => {
    expect(
      configFromEnv(production({ WECHAT_APP_SECRET: 'ABCDEF0123456789'.repeat(2) })).defaultAppId,
    ).toBe('wx0123456789abcdef')
    // The dev Worker has no AppSecret: the emulator's stand-in is no WeChat secret, and passes.
    const res = await call('GET', '/readyz')
    expect([res.status, res.body]).toEqual([200, { ok: true, audit: { lost: 0 } }])
  })

  it('parses a key ring newest first', () => {
    expect(parseSecrets({ JWT_SECRETS: `new:${SECRET}1  old:${SECRET}2\n` })).toEqual([
      { kid: 'new', secret: `${SECRET}1` },
      { kid: 'old', secret: `${SECRET}2` },
    ])
  })

  it('answers a clear JSON 500 naming the variable, not a stack', async () => {
    const app = served(testApp(), production({ WECHAT_APP_SECRET: '' }))
    const res = await call('POST', '/auth/login', { json: { code: 'abc' } }, app)
    expectError(res, 500, 'CONFIG_INVALID')
    expect(res.body.error.message).toContain('WECHAT_APP_SECRET')
    expect(res.text).not.toContain('at ')
  })

  it('answers /readyz 200 once the configuration is complete; /healthz is liveness only', async () => {
    const ready = await call('GET', '/readyz', {}, served(testApp(), production()))
    expect([ready.status, ready.body]).toEqual([200, { ok: true }])
    const bare = served(testApp(), {} as WxaBindings)
    expect((await call('GET', '/healthz', {}, bare)).body).toEqual({ ok: true })
    const notReady = await call('GET', '/readyz', {}, bare)
    expect([notReady.status, notReady.body]).toEqual([503, { ok: false, failing: 'SESSIONS' }])
  })

  it.each([
    ['WECHAT_APP_SECRET', { WECHAT_APP_SECRET: undefined }],
    ['WECHAT_APP_ID', { WECHAT_APP_ID: 'not-an-appid' }],
    ['JWT_SECRET', { JWT_SECRET: 'change-me-change-me-change-me-change-me' }],
    ['STORAGE_SECRET', { STORAGE_SECRET: 'short-storage-value' }],
    ['SESSION_TTL', { SESSION_TTL: 'a month' }],
    ['USER_SESSIONS', { USER_SESSIONS: undefined as unknown as DurableObjectNamespace }],
  ])('answers /readyz 503 naming %s, and nothing of its value', async (failing, vars) => {
    const res = await call('GET', '/readyz', {}, served(testApp(), production(vars)))
    expect([res.status, res.body]).toEqual([503, { ok: false, failing }])
    for (const value of Object.values(vars)) if (value) expect(res.text).not.toContain(value)
  })

  it('keeps the emulator off in production: /__emulator/* is 404', async () => {
    const res = await worker.request(
      '/__emulator/code',
      { method: 'POST', body: '{"openid":"a"}' },
      production(),
    )
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'Not found.' } })
  })
})

describe('the Env that `wrangler types` generates from wrangler.toml', () => {
  it('is what the Worker reads', () => {
    expectTypeOf<Env>().toExtend<WxaBindings>()
  })
})

describe('the playground', () => {
  it('is served at / with the emulator on, and is a 404 in production', async () => {
    const dev = await call('GET', '/')
    expect(dev.status).toBe(200)
    expect(dev.text).toContain('wxa-auth playground')
    const prod = await worker.request('/', {}, production())
    expect(prod.status).toBe(404)
  })

  it("answers the browser's /favicon.ico with 204, not a 404 in the console", async () => {
    const icon = await call('GET', '/favicon.ico')
    expect([icon.status, icon.text]).toEqual([204, ''])
  })
})

describe('JWT_SECRETS entries without a kid (review of 0.1, finding 1)', () => {
  it.each([
    ['no colon', SECRET],
    ['empty kid', `:${SECRET}`],
    ['empty secret', 'main:'],
    ['one good, one bare', `new:${SECRET} ${SECRET}`],
  ])('refuses %s', (_what, JWT_SECRETS) => {
    expect(configError(production({ JWT_SECRETS }))).toContain('JWT_SECRETS')
  })

  it('never puts any part of a secret into a token header', async () => {
    // The easy mistake: JWT_SECRETS set to a bare secret. Today its first 31 characters become the kid.
    const app = served(testApp(), production({ JWT_SECRETS: SECRET }))
    const res = await call('POST', '/auth/login', { json: { code: 'x' } }, app)
    expectError(res, 500, 'CONFIG_INVALID')
    expect(res.headers.get('authorization')).toBeNull()
  })

  it.each([
    ['JWT_SECRETS', { JWT_SECRETS: 'hunter2-password' }],
    ['JWT_SECRETS', { JWT_SECRETS: `k1:${SECRET} k1:${SECRET}x` }],
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

describe('secrets that are visibly not random (review of 0.1, finding 4)', () => {
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

describe('WECHAT_API_BASE (review of 0.1, finding 6)', () => {
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
})

describe('SESSION_MAX_AGE (review of 0.1, finding 8)', () => {
  it('defaults to 90 days', () => {
    expect(configFromEnv(production()).policy.maxAge).toBe(90 * 24 * 60 * 60)
    expect(configError(production({ SESSION_MAX_AGE: '10' }))).toContain('SESSION_MAX_AGE')
  })
})
