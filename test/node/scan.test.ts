// Scan-to-login on Node with Redis (issue #31): the PC and the mini program
// reach different processes of the built server (dist/node.js) sharing one
// Redis; the ticket's state is Redis's, so each process sees the others'
// steps at once, and the login is handed out once.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorClient, emulatorClient } from '../../src/testing-client'
import { type RedisServer, startRedis } from './redis-server'
import { type Caller, caller, type NodeStack, startNodeStack } from './stack'

let redis: RedisServer
let stack: NodeStack
let emulator: EmulatorClient
let a: Caller
let b: Caller
const address = () =>
  `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::1`
const from = () => ({ 'X-Forwarded-For': address() })

beforeAll(async () => {
  redis = await startRedis()
  stack = await startNodeStack({
    servers: 2,
    redisUrl: redis.url,
    vars: { REDIS_URL: redis.url, TRUST_PROXY: '1', WECHAT_SCAN_PAGE: 'pages/scan/index' },
  })
  ;[a, b] = stack.servers.map((server) => caller(server.url)) as [Caller, Caller]
  emulator = emulatorClient(stack.emulator.url)
}, 120_000)

afterAll(async () => {
  await stack?.dispose()
  await redis?.dispose()
})

async function loginAt(at: Caller) {
  const code = await emulator.loginCode(`scan-${randomBytes(4).toString('hex')}`)
  const res = await at('/auth/login', { method: 'POST', json: { code }, headers: from() })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body as { token: string; user: { id: string } }
}

describe('scan-to-login across processes sharing Redis', () => {
  it('created on one process, confirmed on the other, collected once wherever polled', async () => {
    const phone = await loginAt(b)
    const created = await a('/auth/scan', { method: 'POST', json: {}, headers: from() })
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    const { ticket, qrcode } = created.body as { ticket: string; qrcode: string }
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(qrcode).toMatch(/^data:image\/png;base64,iVBORw0KGgo/)
    const poll = (at: Caller) => at(`/auth/scan/${ticket}`, { headers: from() })
    expect((await poll(b)).body).toEqual({ status: 'pending' })
    const step = (what: string) =>
      b(`/auth/scan/${ticket}/${what}`, { method: 'POST', token: phone.token, headers: from() })
    expect((await step('scanned')).status).toBe(200)
    expect((await poll(a)).body).toEqual({ status: 'scanned' })
    expect((await step('confirm')).status).toBe(200)
    const answers = await Promise.all([poll(a), poll(b), poll(a), poll(b)])
    const won = answers.filter((r) => r.status === 200)
    expect(won).toHaveLength(1)
    const pc = won[0]?.body as { status: string; token: string; user: { id: string } }
    expect(pc.status).toBe('confirmed')
    expect(pc.user.id).toBe(phone.user.id)
    for (const r of answers.filter((r) => r.status !== 200)) {
      expect([r.status, (r.body as any).error.code]).toEqual([409, 'SCAN_TICKET_USED'])
    }
    const sessions = await b('/auth/sessions', { token: pc.token, headers: from() })
    expect((sessions.body as any).sessions.map((s: any) => s.device?.platform ?? null)).toContain(
      'pc-scan',
    )
    expect((await step('confirm')).status).toBe(409)
    // Nothing in Redis holds the ticket itself.
    const keys = await redisKeys()
    expect(keys.some((key) => key.includes(ticket))).toBe(false)
  })
})

async function redisKeys(): Promise<string[]> {
  const { createClient } = await import('redis')
  const client = createClient({ url: redis.url })
  await client.connect()
  try {
    return await client.keys('*')
  } finally {
    await client.close()
  }
}
