// The directory and audit log suite (test/stores/operators-suite.ts) over
// Redis: a redis-server of the test's own, and again one in cluster mode
// owning every slot, where a command over keys of two slots fails
// (CROSSSLOT). Then node() as a client reaches it: a login writes both, and
// an audit log Redis refuses fails no login and is counted on /readyz.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { PLATFORMS } from '../../src/platforms/index'
import type { PlatformDefinition } from '../../src/platforms/platform'
import { redisAudit } from '../../src/runtime/node/audit'
import { redisDirectory } from '../../src/runtime/node/directory'
import { type RedisConnection, redisConnection } from '../../src/runtime/node/redis'
import { node } from '../../src/runtime/node/runtime'
import { operatorStoresSuite } from '../stores/operators-suite'
import { quiet } from './records'
import { type RedisServer, startRedis } from './redis-server'

const servers: RedisServer[] = []
const opened: RedisConnection[] = []
let plain: RedisServer
let cluster: RedisServer

beforeAll(async () => {
  ;[plain, cluster] = await Promise.all([startRedis(), startRedis({ cluster: true })])
  servers.push(plain, cluster)
})

afterAll(async () => {
  for (const connection of opened) await connection.close().catch(() => {})
  for (const server of servers) await server.dispose()
})

/** The stores over `server`, under a prefix of their own per suite run. */
function storesOn(server: () => RedisServer) {
  let connection: RedisConnection | undefined
  const prefix = `t${randomBytes(4).toString('hex')}:`
  return () => {
    connection ??= redisConnection(server().url, { log: quiet, commandTimeoutMs: 2000 })
    opened.push(connection)
    const on = connection
    return {
      directory: redisDirectory(on, prefix),
      audit: (settings: Parameters<typeof redisAudit>[2]) => redisAudit(on, prefix, settings),
    }
  }
}

operatorStoresSuite(
  'Redis',
  storesOn(() => plain),
)
operatorStoresSuite(
  'Redis in cluster mode (CROSSSLOT refused)',
  storesOn(() => cluster),
)

const secret = () => randomBytes(32).toString('base64url')

/** A platform of codes `code-<openid>` (as in test/unit/platform-seam.test.ts). */
const example: PlatformDefinition<'example'> = {
  name: 'example',
  apps: (vars) =>
    typeof vars.EXAMPLE_APP_ID === 'string'
      ? [
          {
            platform: 'example',
            appId: vars.EXAMPLE_APP_ID,
            code2Session: async ({ code }) => ({ openid: code.replace(/^code-/, '') }),
          },
        ]
      : [],
  logins: { code: { input: {} } },
}

describe('node() with Redis', () => {
  it('a login writes the directory and the audit log; a refused audit write fails no login, /readyz counts it', async () => {
    const prefix = `n${randomBytes(4).toString('hex')}:`
    const runtime = node({
      redis: plain.url,
      prefix,
      log: quiet,
      env: { JWT_SECRET: secret(), STORAGE_SECRET: secret(), EXAMPLE_APP_ID: 'ex-app' },
    })
    await runtime.ready()
    try {
      const app = createApp({ runtime, platforms: [...PLATFORMS, example] })
      const loginAs = async (openid: string) => {
        const res = await app.request('/auth/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ code: `code-${openid}` }),
        })
        const text = await res.text()
        expect(res.status, text).toBe(200)
        return JSON.parse(text) as { user: { id: string } }
      }
      const ready = async () =>
        (await (await app.request('/readyz')).json()) as { audit?: { lost: number } }
      const connection = redisConnection(plain.url, { log: quiet })
      opened.push(connection)
      const directory = redisDirectory(connection, prefix)
      const audit = redisAudit(connection, prefix, { retentionDays: 180 })

      const { user } = await loginAs('olive')
      expect((await directory.find({ openid: 'olive' }, { limit: 10 })).users[0]?.uid).toBe(user.id)
      let records = (await audit.query({ uid: user.id }, { limit: 10 })).records
      for (let i = 0; i < 50 && !records.length; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        records = (await audit.query({ uid: user.id }, { limit: 10 })).records
      }
      expect(records).toMatchObject([{ type: 'login', uid: user.id, actor: 'user' }])
      expect(await ready()).toMatchObject({ ok: true, audit: { lost: 0 } })

      // Today's stream is a string now: Redis refuses every XADD to it (WRONGTYPE).
      const today = `${prefix}audit:d:${new Date().toISOString().slice(0, 10)}`
      await connection.send(today, ['DEL', today])
      await connection.send(today, ['SET', today, 'not a stream'])
      const second = await loginAs('pablo')
      expect(await directory.get(second.user.id)).not.toBeNull()
      let body = await ready()
      for (let i = 0; i < 50 && body.audit?.lost === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        body = await ready()
      }
      expect(body).toMatchObject({ ok: true, audit: { lost: 1 } })
    } finally {
      await runtime.close()
    }
  })
})
