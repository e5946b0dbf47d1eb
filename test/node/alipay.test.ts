// Alipay on Node with Redis: the built server (dist/node.js) reaches the Node
// emulator's Alipay gateway over real HTTP (ALIPAY_API_BASE), with the keys the
// emulator made for this run; a login, then Alipay's cancellation notification
// forgets the user on every process of the shared Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisServer, startRedis } from './redis-server'
import { caller, type NodeStack, startNodeStack } from './stack'

const ALIPAY = '2021000000000042'

let redis: RedisServer
let stack: NodeStack

beforeAll(async () => {
  redis = await startRedis()
  stack = await startNodeStack({
    servers: 2,
    redisUrl: redis.url,
    emulatorVars: { ALIPAY_APP_ID: ALIPAY },
    besideEmulator: async (emulator) => {
      const url = `${emulator.url}/__emulator/alipay/keys?appId=${ALIPAY}`
      const keys = (await (await fetch(url)).json()) as {
        appPrivateKey: string
        alipayPublicKey: string
        aesKey: string
      }
      return {
        ALIPAY_APP_ID: ALIPAY,
        ALIPAY_PRIVATE_KEY: keys.appPrivateKey,
        ALIPAY_PUBLIC_KEY: keys.alipayPublicKey,
        ALIPAY_AES_KEY: keys.aesKey,
        ALIPAY_API_BASE: `${emulator.url}/gateway.do`,
      }
    },
  })
}, 60_000)
afterAll(async () => {
  await stack?.dispose()
  await redis?.dispose()
})

const post = (path: string, json: unknown) =>
  fetch(`${stack.emulator.url}/__emulator/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(json),
  }).then((res) => res.json() as Promise<any>)

describe('Alipay on Node with Redis', () => {
  it('logs in through the gateway, and a cancellation notification forgets the user everywhere', async () => {
    const [first, second] = stack.servers.map((server) => caller(server.url))
    if (!first || !second) throw new Error('two servers expected')
    const openid = `ali-${crypto.randomUUID().slice(0, 8)}`
    const { code } = await post('code', { openid, appId: ALIPAY })
    const login = await first('/auth/login', { method: 'POST', json: { code, appId: ALIPAY } })
    expect(login.status, JSON.stringify(login.body)).toBe(200)
    expect(login.body.user).toMatchObject({ platform: 'alipay', openid })
    const { token } = login.body
    expect((await second('/me', { token })).status).toBe(200)

    const phone = await post('alipay/phone', { appId: ALIPAY, mobile: '13800138000' })
    const number = await second('/auth/phone', { method: 'POST', token, json: phone })
    expect(number.body.phone?.phoneNumber).toBe('13800138000')

    const { body } = await post('alipay/notify', { appId: ALIPAY, openid })
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' }
    const forged = body.replace(/sign=[^&]+/, 'sign=AAAA')
    expect(
      (await second('/alipay/events', { method: 'POST', body: forged, headers: form })).status,
    ).toBe(401)
    expect((await first('/me', { token })).status).toBe(200)
    const delivered = await second('/alipay/events', { method: 'POST', body, headers: form })
    expect([delivered.status, delivered.body]).toEqual([200, 'success'])
    expect((await first('/me', { token })).body.error?.code).toBe('SESSION_EXPIRED')
    // Again, from the other process: acknowledged, not acted on twice.
    const again = await first('/alipay/events', { method: 'POST', body, headers: form })
    expect([again.status, again.body]).toEqual([200, 'success'])
  })
})
