import { afterAll, beforeAll, expect, it } from 'vitest'
import { redisConnection } from '../../src/runtime/node/redis'
import { POLICY, quiet, sessionRecord } from './records'
import { redisStores } from './redis-stores'
import { SENTINEL_MASTER, type SentinelSetup, startSentinel } from './redis-topology'

let setup: SentinelSetup
beforeAll(async () => {
  setup = await startSentinel()
}, 60_000)
afterAll(async () => {
  await setup?.dispose()
})

/** A connection made here from REDIS_SENTINELS, as the servers make theirs. */
const connect = (options: Parameters<typeof redisConnection>[1]) =>
  redisConnection(
    {
      kind: 'sentinel',
      sentinels: setup.sentinels.map((at) => `redis://${at}`),
      master: SENTINEL_MASTER,
    },
    { log: quiet, ...options },
  )

it('50 parallel logins of one user over 3 Sentinel connections all answer, none hangs', async () => {
  const connection = connect({ waitReplicas: 1, isolatedConnections: 3 })
  try {
    await connection.ready()
    const { sealed, authority } = redisStores(connection, 'pool:')
    // Parallel reads on the shared connection first (snapshot reads of parallel requests).
    await Promise.all(
      Array.from({ length: 20 }, () => connection.send('pool:x', ['GET', 'pool:x'])),
    )
    const at = Math.floor(Date.now() / 1000)
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, async (_, i) => {
        await sealed.put(`identity:u-${i}`, { uid: 'u' }, 60)
        return authority.login('u', `s${i}`, sessionRecord('u', at), 'h0', POLICY, at)
      }),
    )
    const failed = results.filter((r) => r.status === 'rejected')
    expect(failed.map((r) => String((r as PromiseRejectedResult).reason?.message))).toEqual([])
  } finally {
    await connection.close()
  }
}, 40_000)

it('a lease stuck behind a stalled master is not waited for past the command timeout', async () => {
  const connection = connect({ isolatedConnections: 1, commandTimeoutMs: 500 })
  const pid = setup.primary.pid as number
  try {
    await connection.ready()
    await connection.isolated('stall', (link) => link.send(['PING']))
    // A GET under WATCH times out: the lease is let go, and node-redis resets it behind the stall.
    await expect(
      connection.isolated('stall', async (link) => {
        await link.watch(['stall'])
        process.kill(pid, 'SIGSTOP')
        return link.send(['GET', 'stall'])
      }),
    ).rejects.toThrow()
    const started = Date.now()
    const next = connection.isolated('stall', (link) => link.send(['PING']))
    await expect(next).rejects.toThrow()
    expect(Date.now() - started).toBeLessThan(2000)
  } finally {
    process.kill(pid, 'SIGCONT')
    await connection.close()
  }
}, 40_000)

it('a connection whose command timed out is let go, even when the error that says so is wrapped', async () => {
  const connection = connect({ isolatedConnections: 1, commandTimeoutMs: 500 })
  const pid = setup.primary.pid as number
  try {
    await connection.ready()
    // As transact.ts's reads do: the timeout becomes the cause of a STORAGE_UNAVAILABLE.
    await expect(
      connection.isolated('stall', async (link) => {
        process.kill(pid, 'SIGSTOP')
        try {
          return await link.send(['GET', 'stall'])
        } catch (cause) {
          throw new Error('Redis read failed', { cause })
        } finally {
          process.kill(pid, 'SIGCONT')
        }
      }),
    ).rejects.toThrow('Redis read failed')
    expect(await connection.isolated('stall', (link) => link.send(['PING']))).toBe('PONG')
  } finally {
    process.kill(pid, 'SIGCONT')
    await connection.close()
  }
}, 40_000)
