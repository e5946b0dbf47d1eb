// The three-process suite against Redis behind Sentinel (a primary, a
// replica, three sentinels; REDIS_SENTINELS), with REDIS_WAIT_REPLICAS=1.
// Then the primary is SIGKILLed during a workload: the sentinels promote the
// replica, the servers follow it without a restart, and no acknowledged
// write is lost.
import { randomBytes } from 'node:crypto'
import { createSentinel } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WxaAuthError } from '../../src/errors'
import { redisAuthority } from '../../src/runtime/node/authority'
import { redisKv } from '../../src/runtime/node/kv'
import { type RedisConnection, redisConnection } from '../../src/runtime/node/redis'
import { createCipher } from '../../src/storage/cipher'
import { sealedKv } from '../../src/storage/sealed-kv'
import { writeThroughFailover } from './failover'
import { POLICY, quiet, sessionRecord } from './records'
import { redisStores } from './redis-stores'
import { SENTINEL_MASTER, type SentinelSetup, startSentinel, until } from './redis-topology'
import { startProxy, type TcpProxy } from './tcp-proxy'
import { type Db, threeProcesses } from './three-processes'

let setup: SentinelSetup
const suite = threeProcesses({
  async start() {
    setup = await startSentinel()
    const db = createSentinel({
      name: SENTINEL_MASTER,
      sentinelRootNodes: setup.sentinels.map((at) => {
        const [host, port] = at.split(':')
        return { host: host as string, port: Number(port) }
      }),
    })
    db.on('error', () => {}) // the primary is killed on purpose below
    await db.connect()
    return {
      vars: { ...setup.vars, REDIS_WAIT_REPLICAS: '1' },
      db: db as unknown as Db,
      async dispose() {
        await db.close().catch(() => {})
        await setup?.dispose()
      },
    }
  },
})

describe('Sentinel', () => {
  it('takes a createSentinel() client of your own, even with a pool of one, and leaves it open', async () => {
    const mine = createSentinel({
      name: SENTINEL_MASTER,
      sentinelRootNodes: setup.sentinels.map((at) => ({
        host: '127.0.0.1',
        port: Number(at.split(':')[1]),
      })),
      masterPoolSize: 1,
    })
    const connection = redisConnection(mine as never, { log: quiet, waitReplicas: 1 })
    try {
      const { sealed, authority } = redisStores(connection, 'own:')
      const at = Math.floor(Date.now() / 1000)
      const users = Array.from({ length: 12 }, (_, i) => `own-${i}`)
      // In parallel: WATCH transactions on leases, the owed index and sealed records beside them.
      await Promise.all(
        users.map(async (user) => {
          await authority.login(user, 's', sessionRecord(user, at), 'h0', POLICY, at)
          await sealed.put(`identity:${user}`, { uid: user }, 60)
        }),
      )
      for (const user of users) {
        expect(await authority.read(user, 's', at)).toMatchObject({ uid: user })
      }
    } finally {
      await connection.close()
    }
    expect(mine.isOpen).toBe(true) // yours to close
    await mine.close()
  })

  it('the primary SIGKILLed mid-workload: the replica is promoted, the servers follow, nothing acknowledged is lost', async () => {
    const { primary, replica } = setup
    const run = await writeThroughFailover(suite, {
      fail: () => primary.kill(),
      async settle() {
        await until(
          'the sentinels to promote the replica',
          async () => (await setup.master()) === replica.port,
          30_000,
        )
        // With REDIS_WAIT_REPLICAS=1 a master without a replica refuses to acknowledge:
        // the old primary comes back as the new master's replica (as the sentinels would make it, sooner).
        await primary.start(['--replicaof', '127.0.0.1', String(replica.port)])
      },
    })
    const statuses = [...new Set(run.answers.map((a) => `${a.status} ${a.code ?? ''}`.trim()))]
    console.log(
      `sentinel failover: ${run.answers.length} writes (${statuses.join(', ')}), ${run.acknowledged} acknowledged, ${run.lost.length} lost, recovered in ${run.recoveredInMs} ms`,
    )
    for (const { status, code } of run.answers) {
      if (status !== 200)
        expect([status, code]).toSatisfy(
          ([s, c]: [number, string]) => s === 503 && /^STORAGE_/.test(c),
        )
    }
    expect(run.lost).toEqual([])
    expect(await setup.master()).toBe(replica.port)
  }, 120_000)
})

describe('a partition of the primary from its replica, then a failover', () => {
  let partitioned: SentinelSetup
  let proxy: TcpProxy
  const opened: RedisConnection[] = []
  beforeAll(async () => {
    partitioned = await startSentinel({
      link: async (port) => {
        proxy = await startProxy(port)
        return proxy.port
      },
    })
  }, 60_000)
  afterAll(async () => {
    for (const connection of opened) await connection.close()
    await proxy?.close()
    await partitioned?.dispose()
  })

  /** The session authority of a server with `REDIS_WAIT_REPLICAS=waitReplicas`, in this process. */
  function authority(waitReplicas: number) {
    const connection = redisConnection(
      {
        kind: 'sentinel',
        sentinels: partitioned.sentinels.map((at) => `redis://${at}`),
        master: SENTINEL_MASTER,
      },
      { waitReplicas, log: quiet },
    )
    opened.push(connection)
    const cipher = createCipher(randomBytes(32).toString('base64url'))
    const sealed = sealedKv(redisKv(connection, 'wxa:'), cipher)
    return redisAuthority({ connection, prefix: 'wxa:', sealed, objects: undefined, log: quiet })
  }

  it('REDIS_WAIT_REPLICAS=0 loses the logouts it acknowledged meanwhile; with 1 none was acknowledged', async () => {
    const servers = { 0: authority(0), 1: authority(1) }
    const at = Math.floor(Date.now() / 1000)
    const users = (wait: 0 | 1) => Array.from({ length: 5 }, (_, i) => `partition-${wait}-${i}`)
    for (const wait of [0, 1] as const) {
      for (const user of users(wait)) {
        await servers[wait].login(user, 's', sessionRecord(user, at), 'h0', POLICY, at)
      }
    }
    // Every login is on the replica (WAIT through the server that waits) before the partition.
    await servers[1].login(
      'partition-sync',
      's',
      sessionRecord('partition-sync', at),
      'h0',
      POLICY,
      at,
    )
    proxy.blackhole('replication')
    const acknowledged: Record<0 | 1, string[]> = { 0: [], 1: [] }
    const answers: Record<0 | 1, string[]> = { 0: [], 1: [] }
    for (const wait of [0, 1] as const) {
      for (const user of users(wait)) {
        try {
          await servers[wait].end(user, 's', at)
          acknowledged[wait].push(user)
          answers[wait].push('ok')
        } catch (err) {
          answers[wait].push((err as WxaAuthError).code)
        }
      }
    }
    await partitioned.primary.kill()
    await until(
      'the sentinels to promote the replica',
      async () => (await partitioned.master()) === partitioned.replica.port,
      30_000,
    )
    // The checker: an acknowledged logout whose session reads live again is lost.
    const lost: Record<0 | 1, string[]> = { 0: [], 1: [] }
    for (const wait of [0, 1] as const) {
      for (const user of acknowledged[wait]) {
        let read: unknown
        await until('a read from the new master', async () => {
          read = await servers[wait].read(user, 's', at)
          return true
        })
        if (read && typeof read === 'object' && 'uid' in read) lost[wait].push(user)
      }
    }
    console.log(
      `sentinel partition: REDIS_WAIT_REPLICAS=0: ${acknowledged[0].length} logouts acknowledged, ${lost[0].length} lost; REDIS_WAIT_REPLICAS=1: ${acknowledged[1].length} acknowledged (${[...new Set(answers[1])].join(', ')}), ${lost[1].length} lost`,
    )
    // As the README's table says: without WAIT, everything acknowledged during the partition.
    expect(acknowledged[0]).toHaveLength(5)
    expect(lost[0]).toEqual(acknowledged[0])
    // With WAIT 1: nothing acknowledged, so nothing lost; each answered 503 STORAGE_OUTCOME_UNKNOWN.
    expect(answers[1]).toEqual(Array(5).fill('STORAGE_OUTCOME_UNKNOWN'))
    expect(lost[1]).toEqual([])
  }, 90_000)
})
