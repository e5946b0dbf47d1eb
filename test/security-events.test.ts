// WeChat's message push under attack: forged pushes, replayed queries and a
// downgrade from safe mode to plain mode, in JSON and XML. In plain mode only
// the query is signed; in safe mode msg_signature covers the body too.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { WxaBindings } from '../src/env'
import type { AuthorizationEvent } from '../src/platforms/wechat/events'
import {
  call,
  expectError,
  type Fetcher,
  login,
  newOpenid,
  served,
  testApp,
  testEnv,
  testIdentities,
} from './helpers'
import { pushFor, send, sign } from './pushes'

const APP_ID = 'wx00000000emulator'
const TOKEN = testEnv.WECHAT_EVENT_TOKEN as string
const FORMATS = ['json', 'xml'] as const

/** A plain-mode query signed with the Token, as WeChat signs its URL check and plain pushes. */
async function signedQuery(extra: Record<string, string> = {}) {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = String(crypto.getRandomValues(new Uint32Array(1))[0])
  return new URLSearchParams({
    signature: await sign(TOKEN, timestamp, nonce),
    timestamp,
    nonce,
    ...extra,
  })
}

/** A plain body of `event` for `openid`, as WeChat writes it. */
function plainBody(format: 'json' | 'xml', openid: string, event: string, extra = {}) {
  const fields: Record<string, string | number> = {
    ToUserName: 'gh_0000emulator0',
    FromUserName: 'o-emulator-push-service',
    CreateTime: Math.floor(Date.now() / 1000),
    MsgType: 'event',
    Event: event,
    OpenID: openid,
    AppID: APP_ID,
    ...extra,
  }
  if (format === 'json') return JSON.stringify(fields)
  return `<xml>${Object.entries(fields)
    .map(([k, v]) => `<${k}>${typeof v === 'number' ? v : `<![CDATA[${v}]]>`}</${k}>`)
    .join('')}</xml>`
}

type Recorded = AuthorizationEvent & { hook: string }

/** The Worker with recording hooks; `plain` leaves WECHAT_EVENT_AES_KEY unset (plain mode). */
function recordingApp({ plain = false }: { plain?: boolean } = {}) {
  const events: Recorded[] = []
  const record = (hook: string) => (event: AuthorizationEvent) => {
    events.push({ ...event, hook })
  }
  const env: WxaBindings = plain ? { ...testEnv, WECHAT_EVENT_AES_KEY: undefined } : testEnv
  const app = served(
    testApp({
      onAuthorizationRevoked: record('onAuthorizationRevoked'),
      onAccountCancelled: record('onAccountCancelled'),
      onUserInfoModified: record('onUserInfoModified'),
    }),
    env,
  )
  return { app, events }
}

/** A user of `app` with a live session. */
async function victim(app: Fetcher) {
  const session = await login(newOpenid('victim'), app)
  expect((await call('GET', '/me', { token: session.token }, app)).status).toBe(200)
  return session
}

/** Nothing was done to `user`: the session works, the identity is there, no hook ran. */
async function untouched(app: Fetcher, user: { token: string; openid: string }, events: unknown[]) {
  expect((await call('GET', '/me', { token: user.token }, app)).status).toBe(200)
  expect(await testIdentities().get(APP_ID, user.openid, 'wechat')).not.toBeNull()
  expect(events).toEqual([])
}

beforeEach(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => {})
})
afterEach(() => vi.restoreAllMocks())

describe('safe mode cannot be downgraded (WECHAT_EVENT_AES_KEY set)', () => {
  it.each(FORMATS)(
    '%s: a plain body on the query of an observed safe-mode push is 401, nothing done',
    async (format) => {
      const { app, events } = recordingApp()
      const observer = await victim(app)
      const target = await victim(app)
      // The attacker saw one safe-mode push URL (e.g. in a proxy log) and keeps its
      // signature, timestamp and nonce, dropping encrypt_type and msg_signature.
      const seen = new URLSearchParams(
        (await pushFor({ openid: observer.openid, format, mode: 'safe' })).query,
      )
      for (const drop of [['encrypt_type', 'msg_signature'], ['msg_signature'], ['encrypt_type']]) {
        const query = new URLSearchParams(seen)
        for (const name of drop) query.delete(name)
        const forged = {
          query: query.toString(),
          body: plainBody(format, target.openid, 'user_authorization_cancellation'),
          contentType: format === 'json' ? 'application/json' : 'text/xml',
        }
        expectError(await send(app, forged), 401, 'WECHAT_EVENT_SIGNATURE_INVALID')
      }
      await untouched(app, target, events)
    },
  )

  it.each(FORMATS)(
    '%s: encrypt_type=raw and a freshly signed plain push are 401',
    async (format) => {
      const { app, events } = recordingApp()
      const target = await victim(app)
      const body = plainBody(format, target.openid, 'user_authorization_revoke', {
        RevokeInfo: '4',
      })
      for (const query of [await signedQuery(), await signedQuery({ encrypt_type: 'raw' })]) {
        const res = await call('POST', `/wechat/events?${query}`, { body }, app)
        expectError(res, 401, 'WECHAT_EVENT_SIGNATURE_INVALID')
      }
      await untouched(app, target, events)
    },
  )

  it.each(FORMATS)('%s: safe mode still works', async (format) => {
    const { app, events } = recordingApp()
    const user = await victim(app)
    const push = await pushFor({ openid: user.openid, format, mode: 'safe' })
    expect((await send(app, push)).text).toBe('success')
    expect(events.map((e) => e.openid)).toEqual([user.openid])
  })

  it.each(FORMATS)(
    '%s: the query openid (unsigned, WeChat puts the sender there) changes nothing',
    async (format) => {
      const { app, events } = recordingApp()
      const user = await victim(app)
      const push = await pushFor({ openid: user.openid, format, mode: 'safe' })
      const query = new URLSearchParams(push.query)
      // The emulator names the sender, as WeChat does: never the user.
      expect(query.get('openid')).not.toBe(user.openid)
      query.set('openid', newOpenid('other'))
      expect((await send(app, push, query.toString())).text).toBe('success')
      query.set('openid', user.openid)
      expect((await send(app, push, query.toString())).text).toBe('success')
      // Acted on once, for the body's OpenID.
      expect(events.map((e) => e.openid)).toEqual([user.openid])
    },
  )
})

describe('forged pushes', () => {
  it.each(FORMATS)('%s plain: a signature made without the Token is 401', async (format) => {
    const { app, events } = recordingApp({ plain: true })
    const user = await victim(app)
    const timestamp = String(Math.floor(Date.now() / 1000))
    const query = new URLSearchParams({
      signature: await sign('guessedToken123', timestamp, '1'),
      timestamp,
      nonce: '1',
    })
    const body = plainBody(format, user.openid, 'user_authorization_cancellation')
    expectError(
      await call('POST', `/wechat/events?${query}`, { body }, app),
      401,
      'WECHAT_EVENT_SIGNATURE_INVALID',
    )
    await untouched(app, user, events)
  })

  it.each(FORMATS)(
    '%s safe: an Encrypt of another push under this msg_signature is 401',
    async (format) => {
      const { app, events } = recordingApp()
      const user = await victim(app)
      const other = await victim(app)
      const mine = await pushFor({ openid: user.openid, format, mode: 'safe' })
      const theirs = await pushFor({
        openid: other.openid,
        format,
        mode: 'safe',
        event: 'user_authorization_cancellation',
      })
      expectError(
        await send(app, { ...theirs, query: mine.query }),
        401,
        'WECHAT_EVENT_SIGNATURE_INVALID',
      )
      expect((await call('GET', '/me', { token: other.token }, app)).status).toBe(200)
      expect(events).toEqual([])
    },
  )
})

describe('a signed query carries at most one body (plain mode)', () => {
  it.each(FORMATS)('%s: the URL check’s query replayed as a push is 401', async (format) => {
    const { app, events } = recordingApp({ plain: true })
    const user = await victim(app)
    const query = await signedQuery({ echostr: '5737815542811839234' })
    const check = await call('GET', `/wechat/events?${query}`, {}, app)
    expect(check.text).toBe('5737815542811839234')
    const body = plainBody(format, user.openid, 'user_authorization_cancellation')
    for (const replay of [
      query,
      new URLSearchParams([...query].filter(([k]) => k !== 'echostr')),
    ]) {
      const res = await call('POST', `/wechat/events?${replay}`, { body }, app)
      expectError(res, 401, 'WECHAT_EVENT_SIGNATURE_INVALID')
    }
    await untouched(app, user, events)
  })

  it('a push whose query carries echostr is refused, even on a fresh query', async () => {
    const { app, events } = recordingApp({ plain: true })
    const user = await victim(app)
    const query = await signedQuery({ echostr: '1' })
    const body = plainBody('json', user.openid, 'user_authorization_cancellation')
    expectError(
      await call('POST', `/wechat/events?${query}`, { body }, app),
      401,
      'WECHAT_EVENT_SIGNATURE_INVALID',
    )
    await untouched(app, user, events)
  })

  it.each(FORMATS)('%s: the query of an ignored message cannot carry an event', async (format) => {
    const { app, events } = recordingApp({ plain: true })
    const user = await victim(app)
    const query = await signedQuery()
    const text =
      format === 'json'
        ? JSON.stringify({ MsgType: 'text', Content: 'hi', FromUserName: user.openid })
        : `<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content></xml>`
    expect((await call('POST', `/wechat/events?${query}`, { body: text }, app)).text).toBe(
      'success',
    )
    const body = plainBody(format, user.openid, 'user_authorization_cancellation')
    expectError(
      await call('POST', `/wechat/events?${query}`, { body }, app),
      401,
      'WECHAT_EVENT_SIGNATURE_INVALID',
    )
    await untouched(app, user, events)
  })

  it.each(FORMATS)(
    '%s: eight bodies sent at once on one query: exactly one is acted on',
    async (format) => {
      const { app, events } = recordingApp({ plain: true })
      const users = await Promise.all(Array.from({ length: 8 }, () => victim(app)))
      const query = (await signedQuery()).toString()
      const answers = await Promise.all(
        users.map((u) =>
          call(
            'POST',
            `/wechat/events?${query}`,
            { body: plainBody(format, u.openid, 'user_authorization_cancellation') },
            app,
          ),
        ),
      )
      expect(answers.filter((r) => r.status === 200)).toHaveLength(1)
      for (const r of answers.filter((r) => r.status !== 200)) {
        expectError(r, 401, 'WECHAT_EVENT_SIGNATURE_INVALID')
      }
      expect(events).toHaveLength(1)
      const alive = await Promise.all(
        users.map(async (u) => (await call('GET', '/me', { token: u.token }, app)).status),
      )
      expect(alive.filter((s) => s === 401)).toHaveLength(1)
      expect(alive.filter((s) => s === 200)).toHaveLength(7)
    },
  )

  it.each(FORMATS)(
    '%s: the same body again on its query (a retry) is success, acted on once',
    async (format) => {
      const { app, events } = recordingApp({ plain: true })
      const user = await victim(app)
      const push = await pushFor({ openid: user.openid, format })
      const both = await Promise.all([send(app, push), send(app, push)])
      // Two at once: one acts, the other acts not (503 while the first runs, so WeChat retries).
      expect(both.map((r) => r.text)).toContain('success')
      for (const r of both.filter((r) => r.text !== 'success')) {
        expectError(r, 503, 'EVENT_IN_PROGRESS')
      }
      expect((await send(app, push)).text).toBe('success')
      expect(events).toHaveLength(1)
      const again = await login(user.openid, app)
      expect((await send(app, push)).text).toBe('success')
      expect((await call('GET', '/me', { token: again.token }, app)).status).toBe(200)
    },
  )
})
