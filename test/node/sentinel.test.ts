// The three-process suite against Redis behind Sentinel (a primary, a
// replica, three sentinels; REDIS_SENTINELS), with REDIS_WAIT_REPLICAS=1.
// Then the primary is SIGKILLed during a workload: the sentinels promote the
// replica, the servers follow it without a restart, and no acknowledged
// write is lost.
import { createSentinel } from 'redis'
import { describe, expect, it } from 'vitest'
import { writeThroughFailover } from './failover'
import { SENTINEL_MASTER, type SentinelSetup, startSentinel, until } from './redis-topology'
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
        // the old primary comes back, and the sentinels make it the new master's replica.
        await primary.start()
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
