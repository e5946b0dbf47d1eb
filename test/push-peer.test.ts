// WeChat's message push as WeChat itself sends it, sealed by an implementation
// of the scheme written here with node:crypto (none of src/ is used to build
// it), with the sender in the query: `openid` = FromUserName, which for the
// authorization events is WeChat's push account, never the user.
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { AuthorizationEvent } from '../src/platforms/wechat/events'
import {
  call,
  type Fetcher,
  login,
  newOpenid,
  served,
  testApp,
  testEnv,
  testIdentities,
} from './helpers'

const APP_ID = 'wx00000000emulator'
const TOKEN = testEnv.WECHAT_EVENT_TOKEN as string
const AES_KEY = testEnv.WECHAT_EVENT_AES_KEY as string
const SENDER = 'o-wechat-push-account' // WeChat's account, as FromUserName names it

/** random(16) + msg_len(4, network order) + msg + appid, PKCS#7 to 32, AES-256-CBC, IV = key[0..16). */
function seal(message: string, appId: string): string {
  const key = Buffer.from(`${AES_KEY}=`, 'base64')
  expect(key.length).toBe(32)
  const msg = Buffer.from(message, 'utf8')
  const length = Buffer.alloc(4)
  length.writeUInt32BE(msg.length)
  const plain = Buffer.concat([randomBytes(16), length, msg, Buffer.from(appId, 'utf8')])
  const pad = 32 - (plain.length % 32)
  const padded = Buffer.concat([plain, Buffer.alloc(pad, pad)])
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16))
  cipher.setAutoPadding(false)
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64')
}

const sha1 = (...parts: string[]) =>
  createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex')

/** A safe-mode JSON push of `fields`, as WeChat posts it: the sender in the query. */
function wechatPush(fields: Record<string, string | number>) {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = String(randomBytes(4).readUInt32BE())
  const encrypt = seal(JSON.stringify(fields), APP_ID)
  const query = new URLSearchParams({
    signature: sha1(TOKEN, timestamp, nonce),
    timestamp,
    nonce,
    openid: String(fields.FromUserName),
    encrypt_type: 'aes',
    msg_signature: sha1(TOKEN, timestamp, nonce, encrypt),
  })
  return { query, body: JSON.stringify({ ToUserName: fields.ToUserName, Encrypt: encrypt }) }
}

/** WeChat's push of `event` about `openid` (with `extra` fields), sent to `app`; the query it went with. */
async function deliver(app: Fetcher, event: string, openid: string, extra = {}) {
  const { query, body } = wechatPush({
    ToUserName: 'gh_0000emulator0',
    FromUserName: SENDER,
    CreateTime: Math.floor(Date.now() / 1000),
    MsgType: 'event',
    Event: event,
    OpenID: openid,
    AppID: APP_ID,
    ...extra,
  })
  const res = await call(
    'POST',
    `/wechat/events?${query}`,
    { body, headers: { 'Content-Type': 'application/json' } },
    app,
  )
  return { res, query }
}

beforeEach(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => {})
})
afterEach(() => vi.restoreAllMocks())

describe("WeChat's own pushes (an independent implementation of its crypto)", () => {
  it('a cancellation whose query names the sender is taken: the user is forgotten, the hook runs', async () => {
    const events: AuthorizationEvent[] = []
    const app = served(testApp({ onAccountCancelled: (event) => void events.push(event) }), testEnv)
    const user = await login(newOpenid('peer'), app)
    const { res, query } = await deliver(app, 'user_authorization_cancellation', user.openid)
    expect(query.get('openid')).toBe(SENDER)
    expect(res.status, res.text).toBe(200)
    expect(res.text).toBe('success')
    expect(events.map((e) => e.openid)).toEqual([user.openid])
    expect((await call('GET', '/me', { token: user.token }, app)).status).toBe(401)
    expect(await testIdentities().get(APP_ID, user.openid, 'wechat')).toBeNull()
  })

  it('a withdrawal of the nickname and avatar (RevokeInfo 6) reaches the user', async () => {
    const events: AuthorizationEvent[] = []
    const app = served(
      testApp({ onAuthorizationRevoked: (event) => void events.push(event) }),
      testEnv,
    )
    const user = await login(newOpenid('peer'), app)
    const named = await call(
      'PUT',
      '/auth/profile',
      { token: user.token, json: { nickname: 'Ann' } },
      app,
    )
    expect(named.status, named.text).toBe(200)
    const { res } = await deliver(app, 'user_authorization_revoke', user.openid, {
      RevokeInfo: '6',
    })
    expect(res.text).toBe('success')
    expect(events.map((e) => [e.openid, e.deleted])).toEqual([
      [user.openid, ['nickname', 'avatar']],
    ])
    const profile = await call<{ profile: { nickname: string | null } }>(
      'GET',
      '/auth/profile',
      { token: user.token },
      app,
    )
    expect(profile.body.profile.nickname).toBeNull()
  })
})
