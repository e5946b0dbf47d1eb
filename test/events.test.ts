import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { WxaBindings } from '../src/env'
import { defaultUserId } from '../src/hooks'
import type { WxaAuthOptions } from '../src/options'
import type { AuthorizationEvent } from '../src/platforms/wechat/events'
// Made by node:crypto, not by our code: `node scripts/make-push-fixtures.mjs`.
import fixtures from './fixtures/push.json'
import {
  call,
  expectError,
  type Fetcher,
  kvKeys,
  login,
  newOpenid,
  type Reply,
  served,
  testApp,
  testEnv,
  testIdentities,
} from './helpers'
import { pushFor, send, sign } from './pushes'

const APP_ID = 'wx00000000emulator'
const TOKEN = testEnv.WECHAT_EVENT_TOKEN as string
const AES_KEY = testEnv.WECHAT_EVENT_AES_KEY as string
const FORMATS = ['json', 'xml'] as const
const MODES = ['plain', 'compatible', 'safe'] as const

/** A plain-mode query signed with the test Token (or `token`). */
async function plainQuery(timestamp = Math.floor(Date.now() / 1000), token = TOKEN) {
  const nonce = String(crypto.getRandomValues(new Uint32Array(1))[0])
  const ts = String(timestamp)
  return new URLSearchParams({ signature: await sign(token, ts, nonce), timestamp: ts, nonce })
}

type Recorded = AuthorizationEvent & { hook: string }

/** The deployment without an EncodingAESKey: plain mode, the only one it takes. */
const PLAIN_ENV: WxaBindings = { ...testEnv, WECHAT_EVENT_AES_KEY: undefined }

/**
 * The app with hooks that record the events they get. With `plain` it has no
 * EncodingAESKey (plain mode); else it has one and takes safe and compatible mode only.
 */
function recordingApp(options: Partial<WxaAuthOptions<any>> = {}, { plain = false } = {}) {
  const events: Recorded[] = []
  const record = (hook: string) => (event: AuthorizationEvent) => {
    events.push({ ...event, hook })
  }
  const env = plain ? PLAIN_ENV : testEnv
  const app = served(
    testApp({
      onAuthorizationRevoked: record('onAuthorizationRevoked'),
      onPhoneNumberRevoked: record('onPhoneNumberRevoked'),
      onAccountCancelled: record('onAccountCancelled'),
      onUserInfoModified: record('onUserInfoModified'),
      ...options,
    }),
    env,
  )
  return { app, events }
}

/** A logged-in user of `app`: its token works. */
async function loggedIn(app: Fetcher) {
  const session = await login(newOpenid('ev'), app)
  expect((await call('GET', '/me', { token: session.token }, app)).status).toBe(200)
  return session
}

let warn: ReturnType<typeof vi.spyOn>
beforeEach(() => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
})
afterEach(() => vi.restoreAllMocks())

describe('GET /wechat/events: the URL check', () => {
  it('answers echostr as it is, as text', async () => {
    const query = await plainQuery()
    query.set('echostr', '5737815542811839234')
    const res = await call('GET', `/wechat/events?${query}`)
    expect(res.status).toBe(200)
    expect(res.text).toBe('5737815542811839234')
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
  })

  it.each([
    ['another Token', async () => plainQuery(undefined, 'notTheToken123')],
    [
      'no signature',
      async () => {
        const q = await plainQuery()
        q.delete('signature')
        return q
      },
    ],
    ['a stale timestamp', async () => plainQuery(Math.floor(Date.now() / 1000) - 301)],
    ['a timestamp from the future', async () => plainQuery(Math.floor(Date.now() / 1000) + 301)],
  ])('refuses %s with 401 and echoes nothing', async (_what, make) => {
    const query = await make()
    query.set('echostr', 'echo-me-not')
    const res = await call('GET', `/wechat/events?${query}`)
    expectError(res, 401, 'WECHAT_EVENT_SIGNATURE_INVALID')
    expect(res.text).not.toContain('echo-me-not')
  })

  it('wants an echostr', async () => {
    expectError(await call('GET', `/wechat/events?${await plainQuery()}`), 400, 'INVALID_REQUEST')
  })
})

describe('POST /wechat/events: a cancellation forgets the user; a withdrawal ends no session', () => {
  const cases = FORMATS.flatMap((format) =>
    MODES.flatMap((mode) =>
      (['user_authorization_revoke', 'user_authorization_cancellation'] as const).map(
        (event) => [event, format, mode] as const,
      ),
    ),
  )

  it.each(cases)('%s, %s, %s mode', async (event, format, mode) => {
    const { app, events } = recordingApp({}, { plain: mode === 'plain' })
    const alice = await loggedIn(app)
    const second = await login(alice.openid, app) // a second device
    expect(await testIdentities().get(APP_ID, alice.openid, 'wechat')).not.toBeNull()

    const push = await pushFor({ openid: alice.openid, event, format, mode, revokeInfo: '8' })
    expect(push.contentType).toBe(format === 'json' ? 'application/json' : 'text/xml')
    expect(push.query.includes('encrypt_type=aes')).toBe(mode !== 'plain')
    const res = await send(app, push)
    expect(res.status, res.text).toBe(200)
    expect(res.text).toBe('success')
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)

    const cancelled = event === 'user_authorization_cancellation'
    for (const token of [alice.token, second.token]) {
      const me = await call('GET', '/me', { token }, app)
      if (cancelled) expectError(me, 401, 'SESSION_EXPIRED')
      else expect(me.status).toBe(200)
    }
    const identity = await testIdentities().get(APP_ID, alice.openid, 'wechat')
    if (cancelled) expect(identity).toBeNull()
    else expect(identity).not.toBeNull()
    const seen = {
      event,
      appId: APP_ID,
      openid: alice.openid,
      createTime: expect.any(Number),
      revokeInfo: '8',
      uid: alice.user.id,
      sessionsEnded: cancelled ? 2 : 0,
      deleted: [],
      raw: expect.objectContaining({ Event: event, OpenID: alice.openid, AppID: APP_ID }),
    }
    expect(events).toEqual(
      cancelled
        ? [{ hook: 'onAccountCancelled', ...seen }]
        : [
            { hook: 'onPhoneNumberRevoked', ...seen },
            { hook: 'onAuthorizationRevoked', ...seen },
          ],
    )
    expect(Math.abs((events[0]?.createTime ?? 0) - Date.now() / 1000)).toBeLessThan(60)
  })

  it('through the emulator to the deployable Worker: POST /__emulator/events', async () => {
    const alice = await login(newOpenid('ev'))
    expect((await call('GET', '/me', { token: alice.token })).status).toBe(200)
    const res = await call('POST', '/__emulator/events', {
      json: {
        openid: alice.openid,
        event: 'user_authorization_cancellation',
        format: 'xml',
      },
    })
    // Without a mode, as this Worker takes them: safe, since it has an EncodingAESKey.
    expect(res.status, res.text).toBe(200)
    expect(res.body).toEqual({ status: 200, answer: 'success' })
    expectError(await call('GET', '/me', { token: alice.token }), 401, 'SESSION_EXPIRED')
    expect(await testIdentities().get(APP_ID, alice.openid, 'wechat')).toBeNull()
  })

  it('leaves the user’s sessions in the other app alone', async () => {
    const { app } = recordingApp({}, { plain: true })
    const openid = newOpenid('ev')
    const here = await login(openid, app)
    const code = await call<{ code: string }>('POST', '/__emulator/code', {
      json: { openid, appId: 'wx0000000000second' },
    })
    const there = await call<{ token: string }>(
      'POST',
      '/auth/login',
      { json: { code: code.body.code, appId: 'wx0000000000second' } },
      app,
    )
    expect(there.status).toBe(200)
    const cancelled = await pushFor({ openid, event: 'user_authorization_cancellation' })
    expect((await send(app, cancelled)).text).toBe('success')
    expectError(await call('GET', '/me', { token: here.token }, app), 401, 'SESSION_EXPIRED')
    expect((await call('GET', '/me', { token: there.body.token }, app)).status).toBe(200)
    expect(await testIdentities().get('wx0000000000second', openid, 'wechat')).not.toBeNull()
  })

  it('user_info_modified calls its hook and ends nothing', async () => {
    const { app, events } = recordingApp()
    const alice = await loggedIn(app)
    const push = await pushFor({ openid: alice.openid, event: 'user_info_modified', mode: 'safe' })
    expect((await send(app, push)).text).toBe('success')
    expect((await call('GET', '/me', { token: alice.token }, app)).status).toBe(200)
    expect(await testIdentities().get(APP_ID, alice.openid, 'wechat')).not.toBeNull()
    expect(events).toEqual([
      expect.objectContaining({
        hook: 'onUserInfoModified',
        event: 'user_info_modified',
        openid: alice.openid,
        uid: alice.user.id,
        sessionsEnded: 0,
      }),
    ])
    expect(events[0]).not.toHaveProperty('revokeInfo')
  })

  it('an unknown user: success, and the hook still hears of it', async () => {
    const { app, events } = recordingApp({}, { plain: true })
    const openid = newOpenid('never')
    expect((await send(app, await pushFor({ openid }))).text).toBe('success')
    // With the default user model the uid follows from (appid, openid).
    expect(events).toEqual([
      expect.objectContaining({
        openid,
        uid: await defaultUserId(APP_ID, openid),
        sessionsEnded: 0,
      }),
    ])
  })

  it('an unknown user of a custom user model: the hook gets uid null', async () => {
    const { app, events } = recordingApp(
      { findOrCreateUser: ({ openid }) => ({ id: `member-${openid}` }) },
      { plain: true },
    )
    const known = await loggedIn(app)
    const stranger = newOpenid('never')
    const event = 'user_authorization_cancellation'
    expect((await send(app, await pushFor({ openid: stranger, event }))).text).toBe('success')
    expect((await send(app, await pushFor({ openid: known.openid, event }))).text).toBe('success')
    expect(events.map((e) => [e.openid, e.uid, e.sessionsEnded])).toEqual([
      [stranger, null, 0],
      [known.openid, `member-${known.openid}`, 1],
    ])
  })

  it('other events and messages: success, nothing done', async () => {
    const { app, events } = recordingApp({}, { plain: true })
    const alice = await loggedIn(app)
    expect(
      (await send(app, await pushFor({ openid: alice.openid, event: 'subscribe_msg_popup_event' })))
        .text,
    ).toBe('success')
    const text = `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[${alice.openid}]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>1</MsgId></xml>`
    const res = await call('POST', `/wechat/events?${await plainQuery()}`, { body: text }, app)
    expect(res.text).toBe('success')
    expect(events).toEqual([])
    expect((await call('GET', '/me', { token: alice.token }, app)).status).toBe(200)
  })

  it('leaves nothing in KV for a push: its claims live in a Durable Object', async () => {
    const { app } = recordingApp()
    const alice = await loggedIn(app)
    const before = new Set((await kvKeys('')).map((k) => k.name))
    const push = await pushFor({ openid: alice.openid, mode: 'safe' })
    expect((await send(app, push)).text).toBe('success')
    const added = (await kvKeys('')).filter((k) => !before.has(k.name))
    expect(added.filter((k) => !k.name.startsWith('session:'))).toEqual([])
  })

  it('a hook that throws answers 500; WeChat’s retry finds the identity and calls it again', async () => {
    let fail = true
    const seen: (string | null)[] = []
    const app = served(
      testApp({
        onAccountCancelled: (event) => {
          seen.push(event.uid)
          if (fail) throw new Error('the database is down')
        },
      }),
      PLAIN_ENV,
    )
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const alice = await loggedIn(app)
    const first = await pushFor({ openid: alice.openid, event: 'user_authorization_cancellation' })
    expectError(await send(app, first), 500, 'INTERNAL_ERROR')
    expectError(await call('GET', '/me', { token: alice.token }, app), 401, 'SESSION_EXPIRED')
    expect(await testIdentities().get(APP_ID, alice.openid, 'wechat')).not.toBeNull()
    fail = false
    // WeChat retries the same push; here with a new nonce, as a retry may have.
    const retry = await pushFor({
      openid: alice.openid,
      event: 'user_authorization_cancellation',
      createTime: Number(new URLSearchParams(first.query).get('timestamp')),
    })
    expect((await send(app, retry)).text).toBe('success')
    expect(seen).toEqual([alice.user.id, alice.user.id])
    expect(await testIdentities().get(APP_ID, alice.openid, 'wechat')).toBeNull()
  })
})

describe('POST /wechat/events: security', () => {
  /** Asserts that nothing was done for `alice`: session alive, identity kept, no hook. */
  async function untouched(
    app: Fetcher,
    alice: { token: string; openid: string },
    events: unknown[],
  ) {
    expect((await call('GET', '/me', { token: alice.token }, app)).status).toBe(200)
    expect(await testIdentities().get(APP_ID, alice.openid, 'wechat')).not.toBeNull()
    expect(events).toEqual([])
  }

  describe('signatures', () => {
    it.each(MODES)('%s mode: a wrong signature is 401 and nothing is done', async (mode) => {
      const { app, events } = recordingApp({}, { plain: mode === 'plain' })
      const alice = await loggedIn(app)
      const push = await pushFor({ openid: alice.openid, mode })
      const query = new URLSearchParams(push.query)
      const field = mode === 'plain' ? 'signature' : 'msg_signature'
      query.set(
        field,
        await sign('notTheToken123', query.get('timestamp') ?? '', query.get('nonce') ?? ''),
      )
      expectError(await send(app, push, query.toString()), 401, 'WECHAT_EVENT_SIGNATURE_INVALID')
      query.delete(field)
      expectError(await send(app, push, query.toString()), 401, 'WECHAT_EVENT_SIGNATURE_INVALID')
      await untouched(app, alice, events)
    })

    it('encrypted: a ciphertext changed after signing is 401', async () => {
      const { app, events } = recordingApp()
      const alice = await loggedIn(app)
      const push = await pushFor({ openid: alice.openid, mode: 'safe' })
      const body = JSON.parse(push.body)
      body.Encrypt = `${body.Encrypt.slice(0, 10)}${body.Encrypt[10] === 'A' ? 'B' : 'A'}${body.Encrypt.slice(11)}`
      const res = await send(app, { ...push, body: JSON.stringify(body) })
      expectError(res, 401, 'WECHAT_EVENT_SIGNATURE_INVALID')
      await untouched(app, alice, events)
    })

    it('encrypted: a push sealed for an AppID that is not ours is 401', async () => {
      const { app, events } = recordingApp()
      const alice = await loggedIn(app)
      const push = await pushFor({
        openid: alice.openid,
        mode: 'safe',
        appId: 'wx0000000000notours',
      })
      expectError(await send(app, push), 401, 'WECHAT_EVENT_SIGNATURE_INVALID')
      expect(String(warn.mock.calls.at(-1)?.[0])).toContain('AppID')
      await untouched(app, alice, events)
    })

    it('plain: an AppID that is not ours is 400 UNKNOWN_APP', async () => {
      const { app, events } = recordingApp({}, { plain: true })
      const alice = await loggedIn(app)
      const push = await pushFor({ openid: alice.openid, appId: 'wx0000000000notours' })
      expectError(await send(app, push), 400, 'UNKNOWN_APP')
      await untouched(app, alice, events)
    })

    it.each([
      ['stale', 301],
      ['from the future', -301],
    ])('a timestamp %s is 401 in both modes', async (_what, age) => {
      const { app, events } = recordingApp()
      const alice = await loggedIn(app)
      for (const mode of ['plain', 'safe']) {
        const push = await pushFor({ openid: alice.openid, mode, age })
        expectError(await send(app, push), 401, 'WECHAT_EVENT_SIGNATURE_INVALID')
      }
      await untouched(app, alice, events)
    })

    it('a timestamp just inside 5 minutes is accepted', async () => {
      const { app, events } = recordingApp({}, { plain: true })
      const alice = await loggedIn(app)
      expect((await send(app, await pushFor({ openid: alice.openid, age: 290 }))).text).toBe(
        'success',
      )
      expect(events).toHaveLength(1)
    })
  })

  describe('replay', () => {
    it.each(MODES)('%s mode: the same push twice is acted on once', async (mode) => {
      const { app, events } = recordingApp({}, { plain: mode === 'plain' })
      const alice = await loggedIn(app)
      const push = await pushFor({ openid: alice.openid, mode, format: 'xml' })
      expect((await send(app, push)).text).toBe('success')
      const again = await login(alice.openid, app) // she logs in again
      expect((await send(app, push)).text).toBe('success')
      expect((await call('GET', '/me', { token: again.token }, app)).status).toBe(200)
      expect(await testIdentities().get(APP_ID, alice.openid, 'wechat')).not.toBeNull()
      expect(events).toHaveLength(1)
    })

    it('a retry with a new nonce and timestamp (same event) is acted on once', async () => {
      const { app, events } = recordingApp()
      const alice = await loggedIn(app)
      const createTime = Math.floor(Date.now() / 1000) - 3
      expect(
        (await send(app, await pushFor({ openid: alice.openid, createTime, mode: 'compatible' })))
          .text,
      ).toBe('success')
      const again = await login(alice.openid, app)
      const retry = await pushFor({ openid: alice.openid, createTime, mode: 'safe' })
      expect((await send(app, retry)).text).toBe('success')
      expect((await call('GET', '/me', { token: again.token }, app)).status).toBe(200)
      expect(events).toHaveLength(1)
    })

    it('plain: a signed query used once cannot carry another body', async () => {
      // In plain mode the signature covers the query, not the body.
      const { app, events } = recordingApp({}, { plain: true })
      const alice = await loggedIn(app)
      const bob = await loggedIn(app)
      const push = await pushFor({ openid: alice.openid })
      expect((await send(app, push)).text).toBe('success')
      const forged = await pushFor({ openid: bob.openid })
      expectError(
        await send(app, { ...forged, query: push.query }),
        401,
        'WECHAT_EVENT_SIGNATURE_INVALID',
      )
      expect((await call('GET', '/me', { token: bob.token }, app)).status).toBe(200)
      expect(events.map((e) => e.openid)).toEqual([alice.openid])
    })
  })

  describe('malformed pushes', () => {
    it.each([
      ['empty', ''],
      ['not JSON or XML', 'success'],
      ['broken JSON', '{"MsgType":'],
      ['a JSON array', '[]'],
      ['XML with a DOCTYPE', '<!DOCTYPE xml><xml><MsgType>event</MsgType></xml>'],
      ['XML with an entity', '<xml><MsgType>&xxe;</MsgType></xml>'],
      ['XML with attributes', '<xml><MsgType a="1">event</MsgType></xml>'],
      ['no MsgType', '{"Event":"user_authorization_revoke"}'],
      [
        'a revoke without OpenID',
        '{"MsgType":"event","Event":"user_authorization_revoke","AppID":"wx00000000emulator","CreateTime":1}',
      ],
      [
        'a revoke without CreateTime',
        '{"MsgType":"event","Event":"user_authorization_revoke","AppID":"wx00000000emulator","OpenID":"x"}',
      ],
      [
        'a revoke with an OpenID that is an object',
        '{"MsgType":"event","Event":"user_authorization_revoke","AppID":"wx00000000emulator","OpenID":{"a":1},"CreateTime":1}',
      ],
    ])('%s is 400', async (_what, body) => {
      const { app, events } = recordingApp({}, { plain: true })
      const res = await call('POST', `/wechat/events?${await plainQuery()}`, { body }, app)
      expect(res.status, res.text).toBe(400)
      expect(['INVALID_REQUEST', 'INVALID_JSON']).toContain(res.body.error.code)
      expect(events).toEqual([])
    })

    it('an encrypted push without Encrypt: 401 with an EncodingAESKey, 400 without one', async () => {
      const query = await plainQuery()
      query.set('encrypt_type', 'aes')
      query.set('msg_signature', '0'.repeat(40))
      expectError(
        await call('POST', `/wechat/events?${query}`, { body: '{"ToUserName":"gh"}' }),
        401,
        'WECHAT_EVENT_SIGNATURE_INVALID',
      )
      const { app } = recordingApp({}, { plain: true })
      const again = await plainQuery()
      again.set('encrypt_type', 'aes')
      again.set('msg_signature', '0'.repeat(40))
      expectError(
        await call('POST', `/wechat/events?${again}`, { body: '{"ToUserName":"gh"}' }, app),
        400,
        'INVALID_REQUEST',
      )
      again.set('encrypt_type', 'des')
      expectError(
        await call('POST', `/wechat/events?${again}`, { body: '{}' }, app),
        400,
        'INVALID_REQUEST',
      )
    })

    it('a body over 16 KiB is 413', async () => {
      const res = await call('POST', `/wechat/events?${await plainQuery()}`, {
        body: `<xml><A>${'x'.repeat(17 * 1024)}</A></xml>`,
      })
      expectError(res, 413, 'PAYLOAD_TOO_LARGE')
    })
  })
})

describe('pushes made by node:crypto (fixtures)', () => {
  it.each(fixtures.pushes.map((p) => [p.name, p] as const))('%s', async (_name, fixture) => {
    // Plain pushes only reach a deployment without an EncodingAESKey.
    const env: WxaBindings = {
      ...testEnv,
      WECHAT_EVENT_TOKEN: fixtures.token,
      WECHAT_EVENT_AES_KEY: fixture.name.endsWith('plain') ? undefined : fixtures.encodingAesKey,
    }
    const events: AuthorizationEvent[] = []
    const app = testApp({
      now: () => fixture.now,
      onAuthorizationRevoked: (event) => {
        events.push(event)
      },
    })
    const res = await app.request(
      `/wechat/events?${fixture.query}`,
      { method: 'POST', body: fixture.body },
      env,
    )
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await res.text()).toBe('success')
    expect(events).toEqual([
      expect.objectContaining({
        event: fixture.expect.Event,
        appId: fixture.expect.AppID,
        openid: fixture.expect.OpenID,
        createTime: fixture.expect.CreateTime,
        revokeInfo: fixture.expect.RevokeInfo,
      }),
    ])
  })
})

describe('configuration', () => {
  const KEY = 'Vq3xT9mR2kLp8sWz4nYb7cHf1dJg6aEu'
  const env = (vars: Partial<WxaBindings>): WxaBindings => ({ ...testEnv, ...vars })

  it('without WECHAT_EVENT_TOKEN both routes are 404, and the rest works', async () => {
    const configless = env({ WECHAT_EVENT_TOKEN: undefined, WECHAT_EVENT_AES_KEY: undefined })
    const app = served(testApp(), configless)
    const query = await plainQuery()
    expectError(await call('GET', `/wechat/events?${query}&echostr=1`, {}, app), 404, 'NOT_FOUND')
    expectError(
      await call('POST', `/wechat/events?${query}`, { body: '{}' }, app),
      404,
      'NOT_FOUND',
    )
    await loggedIn(app)
  })

  it.each([
    ['WECHAT_EVENT_TOKEN', { WECHAT_EVENT_TOKEN: 'has spaces and !!' }],
    ['WECHAT_EVENT_TOKEN', { WECHAT_EVENT_TOKEN: 'x'.repeat(33) }],
    ['WECHAT_EVENT_AES_KEY', { WECHAT_EVENT_AES_KEY: KEY }],
    ['WECHAT_EVENT_AES_KEY', { WECHAT_EVENT_AES_KEY: `${AES_KEY.slice(0, 42)}!` }],
    ['WECHAT_EVENT_AES_KEY', { WECHAT_EVENT_AES_KEY: `${AES_KEY}=` }],
    ['WECHAT_EVENT_AES_KEY', { WECHAT_EVENT_TOKEN: '', WECHAT_EVENT_AES_KEY: AES_KEY }],
  ])('CONFIG_INVALID names %s and quotes none of its value', async (name, vars) => {
    const bad = env(vars)
    const app = served(testApp(), bad)
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const res = await call('POST', `/wechat/events?${await plainQuery()}`, { body: '{}' }, app)
    expectError(res, 500, 'CONFIG_INVALID')
    expect(res.body.error.message).toContain(name)
    for (const value of Object.values(vars)) {
      if (value && value.length >= 8) expect(res.text).not.toContain(value.slice(0, 8))
    }
  })

  it('an encrypted push without WECHAT_EVENT_AES_KEY is CONFIG_INVALID, after its signature', async () => {
    const plainOnly = env({ WECHAT_EVENT_AES_KEY: undefined })
    const app = served(testApp(), plainOnly)
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const alice = await loggedIn(app)
    const push = await pushFor({ openid: alice.openid, mode: 'safe' })
    const res = await send(app, push)
    expectError(res, 500, 'CONFIG_INVALID')
    expect(res.body.error.message).toContain('WECHAT_EVENT_AES_KEY')
    expect((await send(app, await pushFor({ openid: alice.openid }))).text).toBe('success')
  })

  it('never puts the Token or the EncodingAESKey into an answer or a log line', async () => {
    const logged: string[] = []
    for (const level of ['log', 'info', 'warn', 'error'] as const) {
      vi.spyOn(console, level).mockImplementation((...args) => {
        logged.push(args.map(String).join(' '))
      })
    }
    const { app } = recordingApp()
    const alice = await loggedIn(app)
    const answers: Reply[] = []
    for (const mode of MODES) {
      const push = await pushFor({ openid: alice.openid, mode })
      answers.push(await send(app, push))
      answers.push(await send(app, { ...push, body: push.body.replace('event', 'evil') }))
      const q = new URLSearchParams(push.query)
      q.set('timestamp', '1')
      answers.push(await send(app, push, q.toString()))
    }
    const all = [...answers.map((r) => r.text + JSON.stringify([...r.headers])), ...logged].join(
      '\n',
    )
    expect(all).not.toContain(TOKEN)
    expect(all).not.toContain(AES_KEY)
    expect(all).not.toContain(AES_KEY.slice(0, 16))
  })
})
