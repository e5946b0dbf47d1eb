// The three-process suite against a Redis Cluster of three masters and three
// replicas (REDIS_CLUSTER_NODES, made by `redis-cli --cluster create`): every
// WATCH transaction on a connection of its own to its slot's master, the
// keys that are not per user each in a slot of its own. Then a master is
// SIGKILLed during a workload, its replica takes over, and the servers carry
// on with no 5xx but 503s around the failover.
import { createCluster } from 'redis'
import { describe, expect, it } from 'vitest'
import { writeThroughFailover } from './failover'
import { type ClusterSetup, startCluster } from './redis-topology'
import type { Caller } from './stack'
import { type Db, threeProcesses } from './three-processes'

let setup: ClusterSetup
const suite = threeProcesses({
  async start() {
    setup = await startCluster()
    const db = createCluster({
      rootNodes: setup.nodes.map((node) => ({ url: node.url })),
    })
    db.on('error', () => {}) // a master is killed on purpose below
    await db.connect()
    const keys = async (pattern: string) =>
      (
        await Promise.all(db.masters.map(async (node) => (await db.nodeClient(node)).keys(pattern)))
      ).flat()
    return {
      vars: setup.vars,
      db: new Proxy(db, {
        get: (target, name) => (name === 'keys' ? keys : (target as any)[name]),
      }) as unknown as Db,
      async dispose() {
        await db.close().catch(() => {})
        await setup?.dispose()
      },
    }
  },
})

describe('Cluster', () => {
  it('spreads the users over the three masters', async () => {
    const users = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        suite.loginAt(suite.callers[i % 3] as Caller, `spread-${Date.now()}-${i}`),
      ),
    )
    const masters = new Set<number>()
    for (const { uid } of users)
      masters.add((await setup.masterOf(`wxa:{${encodeURIComponent(uid)}}:sessions`)).port)
    expect(masters.size).toBeGreaterThan(1)
  })

  it('a master SIGKILLed mid-workload: its replica takes over, only 503s meanwhile', async () => {
    const run = await writeThroughFailover(suite, {
      users: 9,
      async fail() {
        const victim = await setup.masterOf('wxa:owed')
        await victim.kill()
      },
    })
    const statuses = [...new Set(run.answers.map((a) => `${a.status} ${a.code ?? ''}`.trim()))]
    console.log(
      `cluster failover: ${run.answers.length} writes (${statuses.join(', ')}), ${run.acknowledged} acknowledged, ${run.lost.length} lost (REDIS_WAIT_REPLICAS=0), recovered in ${run.recoveredInMs} ms`,
    )
    for (const { status, code } of run.answers) {
      if (status !== 200)
        expect([status, code]).toSatisfy(
          ([s, c]: [number, string]) => s === 503 && /^STORAGE_/.test(c),
        )
    }
    await setup.healthy()
  })
})
