// The browser and App doors of WeChat on Node with Redis: two processes, one
// Redis. A state issued by one process is claimed by the other; a code posted
// to both gets one answer; one unionid through the mini program, an Official
// Account page, a website and an App is one user with four devices.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorClient } from '../../src/testing-client'
import { type RedisServer, startRedis } from './redis-server'
import { type Caller, caller, type NodeStack, startNodeStack } from './stack'

const OA = 'wx0000000000oanode'
const MOBILE = 'wx00000000mobnode1'
const WEB = 'wx000000000webnode'
const BACK = 'https://h5.example.com/back'

let redis: RedisServer
let stack: NodeStack
let one: Caller
let two: Caller

beforeAll(async () => {
  redis = await startRedis()
  const apps = {
    WECHAT_OA_APP_ID: OA,
    WECHAT_OA_APP_SECRET: randomBytes(16).toString('hex'),
    WECHAT_MOBILE_APP_ID: MOBILE,
    WECHAT_MOBILE_APP_SECRET: randomBytes(16).toString('hex'),
    WECHAT_WEB_APP_ID: WEB,
    WECHAT_WEB_APP_SECRET: randomBytes(16).toString('hex'),
  }
  stack = await startNodeStack({
    servers: 2,
    redisUrl: redis.url,
    emulatorVars: apps,
    vars: { ...apps, WECHAT_REDIRECT_URIS: BACK, IDENTITY: 'unionid' },
  })
  one = caller(stack.servers[0]?.url as string)
  two = caller(stack.servers[1]?.url as string)
}, 120_000)

afterAll(async () => {
  await stack?.dispose()
  await redis?.dispose()
})

/** A state from `server`'s authorize redirect, which points at WeChat itself on Node. */
async function stateFrom(base: string, scope = 'snsapi_userinfo', appId = OA): Promise<string> {
  const query = new URLSearchParams({ appId, redirectUri: BACK, scope })
  const res = await fetch(`${base}/auth/wechat/authorize?${query}`, { redirect: 'manual' })
  expect(res.status).toBe(302)
  const location = new URL(res.headers.get('Location') ?? '')
  expect(location.origin).toBe('https://open.weixin.qq.com')
  return location.searchParams.get('state') ?? ''
}

async function oauthCode(appId: string, openid: string, scope = 'snsapi_userinfo') {
  const res = await fetch(`${stack.emulator.url}/__emulator/oauth/code`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ appId, openid, scope }),
  })
  return ((await res.json()) as { code: string }).code
}

describe('WeChat OAuth on Node with Redis', () => {
  it('a state is claimed once across processes; a code posted to both gets one answer', async () => {
    const state = await stateFrom(stack.servers[0]?.url as string)
    const code = await oauthCode(OA, 'node-oa-1')
    const [a, b] = await Promise.all([
      one('/auth/login', { method: 'POST', json: { code, state, appId: OA } }),
      two('/auth/login', { method: 'POST', json: { code, state, appId: OA } }),
    ])
    expect(a.status, JSON.stringify(a.body)).toBe(200)
    expect(b.status, JSON.stringify(b.body)).toBe(200)
    expect(b.body.token).toBe(a.body.token)
    const replay = await two('/auth/login', {
      method: 'POST',
      json: { code: await oauthCode(OA, 'node-oa-1'), state, appId: OA },
    })
    expect(replay.body.error.code).toBe('STATE_INVALID')
  })

  it('one unionid through the mini program, an OA page, a website and an App is one user', async () => {
    const emulator = emulatorClient(stack.emulator.url)
    await emulator.setUser('node-one', { unionid: 'union-node-one' })
    const mini = await one('/auth/login', {
      method: 'POST',
      json: { code: await emulator.loginCode('node-one') },
    })
    const oa = await two('/auth/login', {
      method: 'POST',
      json: {
        code: await oauthCode(OA, 'node-one'),
        state: await stateFrom(stack.servers[1]?.url as string),
        appId: OA,
      },
    })
    const app = await one('/auth/login', {
      method: 'POST',
      json: { code: await oauthCode(MOBILE, 'node-one'), appId: MOBILE },
    })
    const web = await two('/auth/login', {
      method: 'POST',
      json: {
        code: await oauthCode(WEB, 'node-one', 'snsapi_login'),
        state: await stateFrom(stack.servers[0]?.url as string, 'snsapi_login', WEB),
        appId: WEB,
      },
    })
    for (const r of [mini, oa, app, web]) expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(new Set([mini, oa, app, web].map((r) => r.body.user.id)).size).toBe(1)
    const list = await two('/auth/sessions', { token: app.body.token })
    expect(list.body.sessions).toHaveLength(4)
  })
})
