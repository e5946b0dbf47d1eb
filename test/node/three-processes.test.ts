// The three-process suite (three-processes.ts) against one redis-server with
// AOF; then Redis is SIGKILLed and started again on its AOF.
import { createClient } from 'redis'
import { describe, expect, it } from 'vitest'
import { type RedisServer, startRedis } from './redis-server'
import { codeOf, type Db, threeProcesses } from './three-processes'

let redis: RedisServer
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
    await connect()
    return {
      vars: { REDIS_URL: redis.url },
      db,
      async dispose() {
        await client?.close().catch(() => {})
        await redis?.dispose()
      },
    }
  },
})

describe('one Redis node', () => {
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
