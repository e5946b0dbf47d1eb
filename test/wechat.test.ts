import { afterEach, describe, expect, it, vi } from 'vitest'
import { EMULATOR_APP_ID, EMULATOR_APP_SECRET, emulatorStub } from '../src/emulator/stub'
import { isWxaAuthError } from '../src/errors'
import {
  createWeChatClient,
  sessionKeySignature,
  type WeChatClientOptions,
} from '../src/platforms/wechat/client'
import {
  call,
  codeFor,
  emulate,
  emulatedSessionKey,
  expectError,
  login,
  newOpenid,
  phoneCode,
  production,
  served,
  stableTokenCalls,
  testApp,
  testEnv,
} from './helpers'

/** The client, talking to the emulator over its fetch. */
const client = (options: Partial<WeChatClientOptions> = {}) =>
  createWeChatClient({
    appId: EMULATOR_APP_ID,
    appSecret: EMULATOR_APP_SECRET,
    fetch: (input, init) => emulatorStub(testEnv).fetch(input, init),
    retryDelayMs: 1,
    ...options,
  })

/** A client whose "WeChat" answers every call with `respond`. */
const answering = (respond: () => Response | Promise<Response>, options = {}) =>
  client({ fetch: async () => respond(), ...options })

async function failure(promise: Promise<unknown>) {
  try {
    await promise
  } catch (err) {
    if (isWxaAuthError(err)) return { code: err.code, retryAfter: err.retryAfter, err }
    throw err
  }
  throw new Error('expected a failure')
}

describe('code2Session', () => {
  it('returns openid, session_key and unionid', async () => {
    const openid = newOpenid()
    await emulate(openid, { unionid: 'o6_bmasdasdsad6_2sgVt7hMZOPfL' })
    const result = await client().code2Session(await codeFor(openid))
    expect(result).toEqual({
      openid,
      unionid: 'o6_bmasdasdsad6_2sgVt7hMZOPfL',
      sessionKey: expect.stringMatching(/^[A-Za-z0-9+/]{22}==$/),
    })
  })

  it('maps each errcode to a stable code', async () => {
    const cases: [number, string][] = [
      [40029, 'CODE_INVALID'],
      [40163, 'CODE_USED'],
      [40226, 'USER_BLOCKED'],
      [45011, 'UPSTREAM_RATE_LIMITED'],
      [40013, 'APP_CREDENTIALS_INVALID'],
      [40125, 'APP_CREDENTIALS_INVALID'],
      [-1, 'UPSTREAM_UNAVAILABLE'],
      [12345, 'UPSTREAM_ERROR'],
    ]
    for (const [errcode, code] of cases) {
      const wechat = answering(() => Response.json({ errcode, errmsg: 'x' }), { retries: 0 })
      expect((await failure(wechat.code2Session('c'))).code, String(errcode)).toBe(code)
    }
  })

  it('reports a wrong AppSecret (40125) and a wrong appid (40013) from the emulator', async () => {
    const code = await codeFor(newOpenid())
    const wrongSecret = await failure(client({ appSecret: 'wrong' }).code2Session(code))
    expect(wrongSecret.code).toBe('APP_CREDENTIALS_INVALID')
    expect(String(wrongSecret.err.cause)).toContain('40125')
    const wrongApp = await failure(client({ appId: 'wxwrong' }).code2Session(code))
    expect(String(wrongApp.err.cause)).toContain('40013')
  })

  it('never puts the AppSecret into an error', async () => {
    const wechat = answering(() => new Response('<html>', { status: 200 }))
    const { err } = await failure(wechat.code2Session('c'))
    const text = JSON.stringify({
      message: err.message,
      cause: String(err.cause),
      stack: err.stack,
    })
    expect(text).not.toContain(EMULATOR_APP_SECRET)
  })

  it('treats a success without session_key, HTML, garbage, arrays and truncated JSON as bad responses', async () => {
    const bodies = [
      '{"openid":"o1"}',
      '<html><body>502</body></html>',
      '\u0000\u0001garbage',
      '[1,2]',
      '{"openid":"o1","session_key":"ab',
      '',
    ]
    for (const body of bodies) {
      const wechat = answering(() => new Response(body))
      expect((await failure(wechat.code2Session('c'))).code, body).toBe('UPSTREAM_BAD_RESPONSE')
    }
  })

  it('retries -1 a bounded number of times; 5xx and network errors only without a code', async () => {
    let calls = 0
    const flaky = answering(() => {
      calls++
      if (calls === 1) throw new TypeError('network down')
      if (calls === 2) return new Response('bad gateway', { status: 502 })
      return Response.json({ access_token: 'token', expires_in: 7200 })
    })
    expect((await flaky.stableToken()).accessToken).toBe('token')
    expect(calls).toBe(3)

    // WeChat may have spent the code before the answer was lost: no retry.
    calls = 0
    expect((await failure(flaky.code2Session('c'))).code).toBe('UPSTREAM_UNAVAILABLE')
    expect(calls).toBe(1)

    calls = 0
    const down = answering(
      () => {
        calls++
        return Response.json({ errcode: -1, errmsg: 'system error' })
      },
      { retries: 4 },
    )
    expect((await failure(down.code2Session('c'))).code).toBe('UPSTREAM_UNAVAILABLE')
    expect(calls).toBe(5)
  })

  it('never retries an answer that says no', async () => {
    let calls = 0
    const wechat = answering(() => {
      calls++
      return Response.json({ errcode: 40163, errmsg: 'code been used' })
    })
    await failure(wechat.code2Session('c'))
    expect(calls).toBe(1)
  })

  it('leaves no timer behind a call that finished: its signal is never aborted later', async () => {
    const signals: AbortSignal[] = []
    const openid = newOpenid()
    const wechat = client({
      timeoutMs: 100,
      fetch: (input, init) => {
        if (init?.signal) signals.push(init.signal)
        return emulatorStub(testEnv).fetch(input, init)
      },
    })
    await wechat.code2Session(await codeFor(openid))
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(signals.length).toBeGreaterThan(0)
    expect(signals.map((signal) => signal.aborted)).toEqual(signals.map(() => false))
  })

  it('abandons a call after its timeout', async () => {
    const openid = newOpenid()
    await emulate(openid, { fault: 'hang', hangMs: 2_000 })
    const started = Date.now()
    const result = await failure(client({ timeoutMs: 200 }).code2Session(await codeFor(openid)))
    expect(result.code).toBe('UPSTREAM_TIMEOUT')
    expect(Date.now() - started).toBeLessThan(1_900)
  })
})

describe('the emulator', () => {
  it('answers code2Session with a JSON body labelled text/plain, as WeChat does', async () => {
    const code = await codeFor(newOpenid())
    const query = new URLSearchParams({
      appid: EMULATOR_APP_ID,
      secret: EMULATOR_APP_SECRET,
      js_code: code,
      grant_type: 'authorization_code',
    })
    const res = await emulatorStub(testEnv).fetch(
      `https://api.weixin.qq.com/sns/jscode2session?${query}`,
    )
    expect(res.headers.get('content-type')).toBe('text/plain')
    const body = (await res.json()) as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual(['openid', 'session_key'])
  })

  it('answers errors with errcode and errmsg', async () => {
    const res = await emulatorStub(testEnv).fetch('https://api.weixin.qq.com/sns/jscode2session')
    expect(await res.json()).toEqual({
      errcode: 40013,
      errmsg: expect.stringMatching(/^invalid appid/),
    })
  })

  it('rejects a control request without a usable openid', async () => {
    const res = await call('POST', '/__emulator/code', { json: { openid: 'a b' } })
    expect(res.status).toBe(400)
  })

  it('never shows a session_key on its control surface', async () => {
    const openid = newOpenid()
    await codeFor(openid)
    const res = await call('GET', `/__emulator/users/${openid}`)
    expect(Object.keys(res.body)).not.toContain('sessionKey')
  })
})

describe('stable token, phone number and checkSessionKey', () => {
  it('gets the stable token without force_refresh: repeated calls return the same token', async () => {
    const seen: unknown[] = []
    const wechat = client({
      fetch: async (input, init) => {
        seen.push(JSON.parse(String(init?.body)))
        return emulatorStub(testEnv).fetch(input, init)
      },
    })
    const first = await wechat.stableToken()
    expect(first).toEqual({ accessToken: expect.any(String), expiresIn: expect.any(Number) })
    expect(first.expiresIn).toBeLessThanOrEqual(7200)
    expect((await wechat.stableToken()).accessToken).toBe(first.accessToken)
    expect(seen[0]).toEqual({
      grant_type: 'client_credential',
      appid: EMULATOR_APP_ID,
      secret: EMULATOR_APP_SECRET,
      force_refresh: false,
    })
  })

  it('maps the access-token errcodes, and reads a wrong AppSecret as a config error', async () => {
    for (const errcode of [40001, 40014, 42001]) {
      const wechat = answering(() => Response.json({ errcode, errmsg: 'x' }))
      const result = await failure(wechat.getPhoneNumber('t', 'c'))
      expect(result.code, String(errcode)).toBe('ACCESS_TOKEN_INVALID')
    }
    const wrong = await failure(client({ appSecret: 'wrong' }).stableToken())
    expect(wrong.code).toBe('APP_CREDENTIALS_INVALID')
    expect(JSON.stringify([wrong.err.message, String(wrong.err.cause)])).not.toContain('wrong')
  })

  it('treats a stable token answer without a usable token as a bad response', async () => {
    const bodies = [
      {},
      { access_token: '', expires_in: 7200 },
      { access_token: 'x'.repeat(513), expires_in: 7200 },
      { access_token: 't', expires_in: 0 },
      { access_token: 't', expires_in: '7200' },
    ]
    for (const body of bodies) {
      const result = await failure(answering(() => Response.json(body)).stableToken())
      expect(result.code, JSON.stringify(body)).toBe('UPSTREAM_BAD_RESPONSE')
    }
  })

  it('gets a phone number once per code; 40029 is WECHAT_PHONE_CODE_INVALID, not a login error', async () => {
    const openid = newOpenid()
    await codeFor(openid)
    const wechat = client()
    const { accessToken } = await wechat.stableToken()
    const code = await phoneCode(openid, '+8613700137000')
    expect(await wechat.getPhoneNumber(accessToken, code)).toEqual({
      phoneNumber: '+8613700137000',
      purePhoneNumber: '13700137000',
      countryCode: '86',
    })
    expect((await failure(wechat.getPhoneNumber(accessToken, code))).code).toBe(
      'PHONE_CODE_INVALID',
    )
    const missing = answering(() => Response.json({ errcode: 0, errmsg: 'ok' }))
    expect((await failure(missing.getPhoneNumber('t', 'c'))).code).toBe('UPSTREAM_BAD_RESPONSE')
  })

  it('checks a session_key: true for the current one, false (87009) for an old one', async () => {
    const openid = newOpenid()
    await codeFor(openid)
    const wechat = client()
    const { accessToken } = await wechat.stableToken()
    const current = await emulatedSessionKey(openid)
    expect(await wechat.checkSessionKey(accessToken, openid, current)).toBe(true)
    await call('POST', `/__emulator/users/${openid}/rotate-session-key`)
    expect(await wechat.checkSessionKey(accessToken, openid, current)).toBe(false)
    const invalid = await failure(wechat.checkSessionKey('not-a-token', openid, current))
    expect(invalid.code).toBe('ACCESS_TOKEN_INVALID')
  })
})

describe('the emulator’s checksession and resetusersessionkey', () => {
  const wx = async (path: string, query: Record<string, string>) => {
    const res = await emulatorStub(testEnv).fetch(
      `https://api.weixin.qq.com${path}?${new URLSearchParams(query)}`,
    )
    return (await res.json()) as Record<string, unknown>
  }

  /** A user the emulator knows, their session_key, and a checksession query for them. */
  async function signing() {
    const openid = newOpenid()
    await codeFor(openid)
    const { accessToken } = await client().stableToken()
    const key = await emulatedSessionKey(openid)
    return {
      openid,
      accessToken,
      key,
      query: { access_token: accessToken, openid, sig_method: 'hmac_sha256' },
    }
  }

  it('wants the HMAC keyed with the base64 text, with sig_method hmac_sha256', async () => {
    const { key, query } = await signing()
    const good = await sessionKeySignature(key)
    expect(await wx('/wxa/checksession', { ...query, signature: good })).toEqual({
      errcode: 0,
      errmsg: 'ok',
    })
    const decodedKey = Uint8Array.from(atob(key), (ch) => ch.charCodeAt(0))
    const hmac = await crypto.subtle.importKey(
      'raw',
      decodedKey,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    )
    const wrong = Array.from(
      new Uint8Array(await crypto.subtle.sign('HMAC', hmac, new Uint8Array(0))),
      (b) => b.toString(16).padStart(2, '0'),
    ).join('')
    for (const bad of [{ signature: wrong }, { signature: good, sig_method: 'sha256' }]) {
      expect(await wx('/wxa/checksession', { ...query, ...bad })).toMatchObject({ errcode: 87009 })
    }
    expect(await wx('/wxa/checksession', { ...query, access_token: '' })).toMatchObject({
      errcode: 41001,
    })
  })

  it('resets the session_key, which invalidates the old one', async () => {
    const { openid, accessToken, key: old, query } = await signing()
    const reset = await wx('/wxa/resetusersessionkey', {
      ...query,
      signature: await sessionKeySignature(old),
    })
    expect(reset).toEqual({
      errcode: 0,
      errmsg: 'ok',
      openid,
      session_key: expect.stringMatching(/^[A-Za-z0-9+/]{22}==$/),
    })
    expect(reset.session_key).not.toBe(old)
    expect(await client().checkSessionKey(accessToken, openid, old)).toBe(false)
  })

  it('counts stable_token calls and never shows the token on its control surface', async () => {
    const before = await stableTokenCalls()
    const { accessToken } = await client().stableToken()
    const res = await call('GET', '/__emulator/access-token')
    expect(res.body).toEqual({ stableTokenCalls: before + 1 })
    expect(res.text).not.toContain(accessToken)
  })
})

describe('single-use codes are not retried after a failure that may have spent them (review of 0.1, finding 3)', () => {
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

describe('a platform call that fails (review of 0.1, finding 6)', () => {
  afterEach(() => vi.restoreAllMocks())

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
