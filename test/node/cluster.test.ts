import { createCluster } from 'redis'
import { describe, expect, it } from 'vitest'
import { redisConnection } from '../../src/runtime/node/redis'
import { node } from '../../src/runtime/node/runtime'
import { writeThroughFailover } from './failover'
import { POLICY, quiet, sessionRecord } from './records'
import type { RedisServer } from './redis-server'
import { redisStores } from './redis-stores'
import { type ClusterSetup, cli, startCluster } from './redis-topology'
import type { Caller } from './stack'
import { codeOf, type Db, threeProcesses } from './three-processes'

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
  it('node({ redis }) takes a createCluster() client of your own; anything else is CONFIG_INVALID', async () => {
    const mine = createCluster({ rootNodes: [{ url: setup.nodes[0]?.url as string }] })
    const connection = redisConnection(mine, { log: quiet })
    try {
      const { sealed, authority } = redisStores(connection, 'own:')
      const at = Math.floor(Date.now() / 1000)
      // Users on every master, each a WATCH transaction on a connection of its own to its slot's master.
      const users = Array.from({ length: 12 }, (_, i) => `own-${i}`)
      await Promise.all(
        users.map((user) => authority.login(user, 's', sessionRecord(user, at), 'h0', POLICY, at)),
      )
      for (const user of users)
        expect(await authority.read(user, 's', at)).toMatchObject({ uid: user })
      await sealed.put('identity:x', { uid: 'own-0' }, 60)
      expect((await sealed.get('identity:x'))?.value).toEqual({ uid: 'own-0' })
    } finally {
      await connection.close()
    }
    expect(mine.isOpen).toBe(true) // yours to close
    await mine.close()
    for (const wrong of [{}, { connect() {} }, 'http://redis:6379']) {
      expect(() => node({ redis: wrong as never, env: {}, log: quiet })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      )
    }
    expect(() => node({ env: { REDIS_SENTINELS: '127.0.0.1:26379' }, log: quiet })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    )
  })

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

  it('a resharding moves a user’s slot mid-workload: MOVED and ASK are followed, never a 503', async () => {
    const [a, b, c] = suite.callers
    const { token, uid } = await suite.loginAt(a, `reshard-${Date.now()}`)
    const key = `wxa:{${encodeURIComponent(uid)}}:sessions`
    const from = await setup.masterOf(key)
    const roles = await Promise.all(
      setup.nodes.map(async (n) => (n.pid !== undefined ? await cli(n.port, 'ROLE') : '')),
    )
    const to = setup.nodes.find(
      (n, i) => n !== from && roles[i]?.startsWith('master'),
    ) as RedisServer
    const slot = (await cli(from.port, 'CLUSTER', 'KEYSLOT', key)).trim()
    const id = async (n: RedisServer) => (await cli(n.port, 'CLUSTER', 'MYID')).trim()
    const [fromId, toId] = [await id(from), await id(to)]
    const statuses: string[] = []
    let stop = false
    const writes = (async () => {
      for (let n = 0; !stop; n++) {
        const res = await ([a, b, c][n % 3] as Caller)('/me/session', {
          method: 'PATCH',
          token,
          json: { [`r${n}`]: n },
        })
        statuses.push(`${res.status}${res.status === 200 ? '' : ` ${codeOf(res)}`}`)
      }
    })()
    await new Promise((resolve) => setTimeout(resolve, 300))
    // The steps of `redis-cli --cluster reshard`, one slot, slowly enough for requests in between.
    await cli(to.port, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId)
    await cli(from.port, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId)
    await new Promise((resolve) => setTimeout(resolve, 300))
    for (;;) {
      const names = (await cli(from.port, 'CLUSTER', 'GETKEYSINSLOT', slot, '100'))
        .trim()
        .split('\n')
        .filter(Boolean)
      if (!names.length) break
      await cli(
        from.port,
        'MIGRATE',
        '127.0.0.1',
        String(to.port),
        '',
        '0',
        '5000',
        'KEYS',
        ...names,
      )
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    for (const n of setup.nodes.filter((n) => n.pid !== undefined)) {
      await cli(n.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', toId).catch(() => '')
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
    stop = true
    await writes
    console.log(
      `cluster reshard: ${statuses.length} writes while slot ${slot} moved: ${[...new Set(statuses)].join(', ')}`,
    )
    expect((await setup.masterOf(key)).port).toBe(to.port)
    expect([...new Set(statuses)]).toEqual(['200'])
    const me = await c('/me', { token })
    expect(Object.keys(me.body.session)).toHaveLength(statuses.length)
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
