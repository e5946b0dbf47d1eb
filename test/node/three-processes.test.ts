// The three-process suite (three-processes.ts) against one redis-server with
// AOF, reached through a TCP proxy; then the proxy blackholes (a partition
// between the servers and Redis), and Redis is SIGKILLed and started again
// on its AOF.
import { createClient } from 'redis'
import { describe, expect, it } from 'vitest'
import { type RedisServer, startRedis } from './redis-server'
import { startProxy, type TcpProxy } from './tcp-proxy'
import { codeOf, type Db, threeProcesses } from './three-processes'

let redis: RedisServer
let proxy: TcpProxy
let client: ReturnType<typeof createClient>
async function connect() {
  client = createClient({ url: redis.url })
  client.on('error', () => {}) // Redis is killed on purpose below
  await client.connect()
}
/** Reads through whichever client is current (a new one after Redis restarts). */
const db: Db = new Proxy({} as Db, {
  get:
    (_, name) =>
    (...args: unknown[]) =>
      (client as any)[name](...args),
})

const suite = threeProcesses({
  async start() {
    redis = await startRedis()
    proxy = await startProxy(redis.port)
    await connect()
    return {
      vars: { REDIS_URL: `redis://127.0.0.1:${proxy.port}` },
      db,
      async dispose() {
        await client?.close().catch(() => {})
        await proxy?.close()
        await redis?.dispose()
      },
    }
  },
})

describe('one Redis node', () => {
  it('a partition between the servers and Redis: 503 within the command timeout; after it, nothing acknowledged lost', async () => {
    const [a, b, c] = suite.callers
    const { token } = await suite.loginAt(a, `partition-${Date.now()}`)
    expect((await b('/me/session', { method: 'PATCH', token, json: { before: 1 } })).status).toBe(
      200,
    )
    proxy.blackhole()
    const during: { status: number; code: string | null; ms: number }[] = []
    for (const [at, json] of [
      [a, { during: 1 }],
      [b, { during: 2 }],
      [c, null],
    ] as const) {
      const started = Date.now()
      const res = json
        ? await at('/me/session', { method: 'PATCH', token, json })
        : await at('/me', { token })
      during.push({ status: res.status, code: codeOf(res), ms: Date.now() - started })
    }
    proxy.heal()
    console.log(`partition: ${during.map((d) => `${d.status} ${d.code} in ${d.ms} ms`).join(', ')}`)
    for (const answer of during) {
      expect(answer.status).toBe(503)
      expect(answer.code).toMatch(/^STORAGE_(UNAVAILABLE|OUTCOME_UNKNOWN)$/)
      expect(answer.ms).toBeLessThan(6000) // REDIS_COMMAND_TIMEOUT_MS (3 s), and some slack on a busy machine
    }
    let me = await c('/me', { token })
    for (let i = 0; i < 50 && me.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      me = await c('/me', { token })
    }
    // Acknowledged before: kept. Answered 503 during: never reported done (it may or may not be there).
    expect(me.body.session.before).toBe(1)
    expect((await a('/me/session', { method: 'PATCH', token, json: { after: 1 } })).status).toBe(
      200,
    )
  })

  it('an acknowledged change survives a SIGKILL of Redis (AOF), and the servers reconnect', async () => {
    const [a, b, c] = suite.callers
    const { token } = await suite.loginAt(a, `node-kill-${Date.now()}`)
    expect((await b('/me/session', { method: 'PATCH', token, json: { kept: 'yes' } })).status).toBe(
      200,
    )
    await redis.kill()
    const down = await c('/me', { token })
    expect([down.status, codeOf(down)]).toEqual([503, 'STORAGE_UNAVAILABLE'])
    await redis.start()
    let me = await c('/me', { token })
    for (let i = 0; i < 50 && me.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      me = await c('/me', { token })
    }
    expect(me.body.session).toEqual({ kept: 'yes' })
    await client.close().catch(() => {})
    await connect()
  })
})
