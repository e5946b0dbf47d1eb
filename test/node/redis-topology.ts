// Redis beyond one node, of the test's own, on loopback: a Sentinel setup (a
// primary, a replica and three sentinels, `redis-server --sentinel` with a
// generated config) and a Cluster (three masters and three replicas, made by
// `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`). Small
// timeouts, so that a failover takes a few seconds. Each is started and
// stopped here, on free ports.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { freePort, type RedisServer, redisServerBinary, startRedis } from './redis-server'

const run = promisify(execFile)
const START_TIMEOUT_MS = 20_000
export const SENTINEL_MASTER = 'wxa'
const DOWN_AFTER_MS = 1000 // a sentinel calls the primary down after this long silent
const FAILOVER_TIMEOUT_MS = 3000
const NODE_TIMEOUT_MS = 1000 // cluster-node-timeout: a master silent this long is failed over

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** `redis-cli -p <port> …`, its output. */
export async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 5000 })
  return stdout
}

/** Waits until `check` holds (polled every 100 ms), or throws `what`. */
export async function until(what: string, check: () => Promise<boolean>, ms = START_TIMEOUT_MS) {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

export interface SentinelSetup {
  readonly primary: RedisServer
  readonly replica: RedisServer
  /** `127.0.0.1:<port>` of each sentinel. */
  readonly sentinels: readonly string[]
  /** REDIS_SENTINELS and REDIS_SENTINEL_MASTER for the servers. */
  readonly vars: Record<string, string>
  /** The port of the master the sentinels name now. */
  master(): Promise<number>
  dispose(): Promise<void>
}

/**
 * A primary, its replica, and three sentinels watching them (quorum 2). With
 * `link`, the primary is known to all (replica, sentinels, servers) at the
 * port it gives: a proxy to the primary's port, which the test can blackhole
 * (the sentinels would otherwise point the replica straight at the primary).
 */
export async function startSentinel({
  link,
}: {
  link?: (primary: number) => Promise<number>
} = {}): Promise<SentinelSetup> {
  const primary = await startRedis({ appendfsync: 'always' })
  const via = link ? await link(primary.port) : primary.port
  const replica = await startRedis({
    appendfsync: 'always',
    args: ['--replicaof', '127.0.0.1', String(via)],
  })
  const dir = await mkdtemp(join(tmpdir(), 'wxa-sentinel-'))
  const children: ChildProcess[] = []
  const ports: number[] = []
  const dispose = async () => {
    for (const child of children) child.kill('SIGKILL')
    await Promise.all(
      children.map((child) =>
        child.exitCode !== null || child.signalCode !== null
          ? undefined
          : new Promise((resolve) => child.once('exit', resolve)),
      ),
    )
    await primary.dispose()
    await replica.dispose()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await until('the replica to sync', async () =>
      (await cli(replica.port, 'INFO', 'replication')).includes('master_link_status:up'),
    )
    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      const config = join(dir, `sentinel-${i}.conf`)
      await writeFile(
        config,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          'sentinel announce-ip 127.0.0.1',
          `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${via} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${SENTINEL_MASTER} ${FAILOVER_TIMEOUT_MS}`,
          `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
          '',
        ].join('\n'),
      )
      const child = spawn(redisServerBinary(), [config, '--sentinel'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      children.push(child)
      for (const stream of [child.stdout, child.stderr]) {
        if (stream) createInterface({ input: stream }).on('line', () => {})
      }
      ports.push(port)
    }
    // Each sentinel knows the replica and the two other sentinels.
    for (const port of ports) {
      await until(`sentinel ${port}`, async () => {
        const info = await cli(port, 'SENTINEL', 'MASTER', SENTINEL_MASTER)
        const fields = info.trim().split('\n')
        const at = (name: string) => Number(fields[fields.indexOf(name) + 1])
        return at('num-slaves') === 1 && at('num-other-sentinels') === 2
      })
    }
  } catch (err) {
    await dispose()
    throw err
  }
  const sentinels = ports.map((port) => `127.0.0.1:${port}`)
  return {
    primary,
    replica,
    sentinels,
    vars: { REDIS_SENTINELS: sentinels.join(','), REDIS_SENTINEL_MASTER: SENTINEL_MASTER },
    async master() {
      const reply = await cli(
        ports[0] as number,
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        SENTINEL_MASTER,
      )
      return Number(reply.trim().split('\n')[1])
    },
    dispose,
  }
}

export interface ClusterSetup {
  /** Six nodes; which are masters changes with a failover. */
  readonly nodes: readonly RedisServer[]
  /** REDIS_CLUSTER_NODES for the servers. */
  readonly vars: Record<string, string>
  /** The node that is master of `key`'s slot now. */
  masterOf(key: string): Promise<RedisServer>
  /** Waits until every slot has a live master (after a failover). */
  healthy(): Promise<void>
  dispose(): Promise<void>
}

/** Three masters, three replicas, made into one cluster by redis-cli. */
export async function startCluster(): Promise<ClusterSetup> {
  const nodes: RedisServer[] = []
  const dispose = async () => {
    await Promise.all(nodes.map((node) => node.dispose()))
  }
  try {
    for (let i = 0; i < 6; i++) {
      nodes.push(
        await startRedis({
          appendfsync: 'always',
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            String(NODE_TIMEOUT_MS),
          ],
        }),
      )
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: START_TIMEOUT_MS },
    )
  } catch (err) {
    await dispose()
    throw err
  }
  const live = () => nodes.filter((node) => node.pid !== undefined)
  const healthy = async () => {
    await until(
      'the cluster to be ok',
      async () => {
        for (const node of live()) {
          if (!(await cli(node.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false
        }
        // Every live replica has its master's data link up.
        for (const node of live()) {
          const info = await cli(node.port, 'INFO', 'replication')
          if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false
        }
        return true
      },
      30_000,
    )
  }
  await healthy().catch(async (err) => {
    await dispose()
    throw err
  })
  return {
    nodes,
    vars: { REDIS_CLUSTER_NODES: nodes.map((node) => `127.0.0.1:${node.port}`).join(',') },
    async masterOf(key) {
      const anyLive = live()[0] as RedisServer
      const slot = (await cli(anyLive.port, 'CLUSTER', 'KEYSLOT', key)).trim()
      // CLUSTER NODES: `<id> <host:port@bus> <flags> <master> … <slot ranges>`, one node a line.
      for (const line of (await cli(anyLive.port, 'CLUSTER', 'NODES')).trim().split('\n')) {
        const fields = line.split(' ')
        const flags = fields[2] ?? ''
        if (!flags.includes('master') || flags.includes('fail')) continue
        const port = Number(/:(\d+)@/.exec(fields[1] ?? '')?.[1])
        for (const range of fields.slice(8)) {
          const [start, end = start] = range.split('-').map(Number)
          if ((start as number) <= Number(slot) && Number(slot) <= (end as number)) {
            const node = nodes.find((n) => n.port === port)
            if (node) return node
          }
        }
      }
      throw new Error(`no master found for slot ${slot}`)
    },
    healthy,
    dispose,
  }
}
