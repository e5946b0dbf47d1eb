// The store suite (test/stores/suite.ts) over the Redis authority, against a
// real redis-server of the test's own; the outcome-unknown part over a Redis
// that was killed under a connected client.
import { afterAll, beforeAll } from 'vitest'
import { memoryObjects } from '../../src/runtime/memory/objects'
import { redisAuthority } from '../../src/runtime/node/authority'
import { redisKv } from '../../src/runtime/node/kv'
import { type RedisConnection, redisConnection } from '../../src/runtime/node/redis'
import { createCipher } from '../../src/storage/cipher'
import { sealedKv } from '../../src/storage/sealed-kv'
import { storeSuite } from '../stores/suite'
import { type RedisServer, startRedis } from './redis-server'

const quiet = { error: () => {}, warn: () => {} }
const servers: RedisServer[] = []
const opened: RedisConnection[] = []
let redis: RedisServer

beforeAll(async () => {
  redis = await startRedis()
  servers.push(redis)
})

afterAll(async () => {
  for (const connection of opened) await connection.close().catch(() => {})
  for (const server of servers) await server.dispose()
})

function authorityOn(url: string) {
  const connection = redisConnection(url, { log: quiet, commandTimeoutMs: 2000 })
  opened.push(connection)
  const identities = sealedKv(
    redisKv(connection, 'wxa:'),
    createCipher('Vq3xT9mR2kLp8sWz4nYb7cHf1dJg6aEu-redis'),
  )
  const objects = memoryObjects()
  const authority = redisAuthority({
    connection,
    prefix: 'wxa:',
    sealed: identities,
    objects,
    log: quiet,
  })
  return { connection, authority, identities, objects }
}

storeSuite('Redis', () => authorityOn(redis.url), {
  async unreachable() {
    const gone = await startRedis()
    servers.push(gone)
    const { connection, authority } = authorityOn(gone.url)
    await connection.ready()
    await gone.kill()
    return { authority, restore: () => gone.start() }
  },
})
