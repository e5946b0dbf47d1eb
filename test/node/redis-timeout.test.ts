// L-2 at the adapter: a Redis whose answers stop coming (a TCP proxy that
// holds every byte Redis sends) fails the command after the timeout instead
// of hanging, and says precisely what is known: a transaction whose reads
// went unanswered wrote nothing (STORAGE_UNAVAILABLE); one whose EXEC was
// sent may have been made (STORAGE_OUTCOME_UNKNOWN), and here it was.
import { connect, createServer, type Server, type Socket } from 'node:net'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisConnection, redisConnection } from '../../src/runtime/node/redis'
import { redisTransact } from '../../src/runtime/node/transact'
import { type RedisServer, startRedis } from './redis-server'

const quiet = { error: () => {}, warn: () => {} }
let redis: RedisServer
let proxy: Server
let url: string
/** While true, what Redis answers is held back (and sent later), as a stalled server or network would. */
let hold = false
const held: (() => void)[] = []
const release = () => {
  hold = false
  for (const send of held.splice(0)) send()
}
const sockets: Socket[] = []
const opened: RedisConnection[] = []

beforeAll(async () => {
  redis = await startRedis()
  proxy = createServer((client) => {
    const upstream = connect(redis.port, '127.0.0.1')
    sockets.push(client, upstream)
    client.pipe(upstream)
    upstream.on('data', (chunk) => {
      if (hold) held.push(() => client.write(chunk))
      else client.write(chunk)
    })
    for (const socket of [client, upstream]) socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const address = proxy.address()
  url = `redis://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})

afterAll(async () => {
  for (const connection of opened) await connection.close().catch(() => {})
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => proxy?.close(resolve))
  await redis?.dispose()
})

function transact() {
  const connection = redisConnection(url, { log: quiet, commandTimeoutMs: 300 })
  opened.push(connection)
  return redisTransact({ connection, prefix: 'wxa:', log: quiet, drain: async () => {} })
}

describe('a Redis that stops answering', () => {
  it('an EXEC sent and unanswered is STORAGE_OUTCOME_UNKNOWN, and it may have been made', async () => {
    hold = false
    const run = transact()
    let calls = 0
    const began = Date.now()
    const outcome = await run('stall-exec', (state) => {
      state.profile = { v: 1, nickname: 'stalled', updatedAt: 1 }
      // The first call runs on a snapshot; the second inside WATCH, right before MULTI/EXEC.
      if (++calls === 2) hold = true
    }).catch((err: unknown) => err)
    release()
    expect(outcome).toMatchObject({ code: 'STORAGE_OUTCOME_UNKNOWN' })
    expect(Date.now() - began).toBeLessThan(3000)
    const db = createClient({ url: redis.url })
    await db.connect()
    try {
      // Redis did apply it: "unknown" was the honest answer, "unavailable" would have been a lie.
      expect(JSON.parse((await db.get('wxa:{stall-exec}:profile')) ?? 'null')).toMatchObject({
        nickname: 'stalled',
      })
    } finally {
      await db.close()
    }
  })

  it('a read unanswered is STORAGE_UNAVAILABLE within the timeout, and the next call works', async () => {
    const run = transact()
    hold = true
    const began = Date.now()
    const outcome = await run('stall-read', (state) => {
      state.identities.add('identity:wechat:app:stall-read')
    }).catch((err: unknown) => err)
    release()
    expect(outcome).toMatchObject({ code: 'STORAGE_UNAVAILABLE' })
    expect(Date.now() - began).toBeLessThan(3000)
    // Redis answers again: the same process's next change goes through.
    await run('stall-read', (state) => {
      state.identities.add('identity:wechat:app:stall-read')
    })
  })
})
