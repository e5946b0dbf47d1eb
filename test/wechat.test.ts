import { describe, expect, it } from 'vitest'
import { EMULATOR_APP_ID, EMULATOR_APP_SECRET, emulatorStub } from '../src/emulator/stub'
import { isWxaAuthError } from '../src/errors'
import { createWeChatClient, type WeChatClientOptions } from '../src/wechat/client'
import { call, codeFor, emulate, newOpenid, testEnv } from './helpers'

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
      [40029, 'WECHAT_CODE_INVALID'],
      [40163, 'WECHAT_CODE_USED'],
      [40226, 'WECHAT_USER_BLOCKED'],
      [45011, 'WECHAT_RATE_LIMITED'],
      [40013, 'WECHAT_CREDENTIALS_INVALID'],
      [40125, 'WECHAT_CREDENTIALS_INVALID'],
      [-1, 'WECHAT_UNAVAILABLE'],
      [12345, 'WECHAT_ERROR'],
    ]
    for (const [errcode, code] of cases) {
      const wechat = answering(() => Response.json({ errcode, errmsg: 'x' }), { retries: 0 })
      expect((await failure(wechat.code2Session('c'))).code, String(errcode)).toBe(code)
    }
  })

  it('reports a wrong AppSecret (40125) and a wrong appid (40013) from the emulator', async () => {
    const code = await codeFor(newOpenid())
    const wrongSecret = await failure(client({ appSecret: 'wrong' }).code2Session(code))
    expect(wrongSecret.code).toBe('WECHAT_CREDENTIALS_INVALID')
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
      expect((await failure(wechat.code2Session('c'))).code, body).toBe('WECHAT_BAD_RESPONSE')
    }
  })

  it('retries -1, 5xx and network errors a bounded number of times', async () => {
    let calls = 0
    const flaky = answering(() => {
      calls++
      if (calls === 1) throw new TypeError('network down')
      if (calls === 2) return new Response('bad gateway', { status: 502 })
      return Response.json({ openid: 'o1', session_key: 'a2V5a2V5a2V5a2V5a2V5aw==' })
    })
    expect((await flaky.code2Session('c')).openid).toBe('o1')
    expect(calls).toBe(3)

    calls = 0
    const down = answering(
      () => {
        calls++
        return Response.json({ errcode: -1, errmsg: 'system error' })
      },
      { retries: 4 },
    )
    expect((await failure(down.code2Session('c'))).code).toBe('WECHAT_UNAVAILABLE')
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

  it('abandons a call after its timeout', async () => {
    const openid = newOpenid()
    await emulate(openid, { fault: 'hang', hangMs: 2_000 })
    const started = Date.now()
    const result = await failure(client({ timeoutMs: 200 }).code2Session(await codeFor(openid)))
    expect(result.code).toBe('WECHAT_TIMEOUT')
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
