// The chaos cluster on Node behind Sentinel: three processes of the built
// server on a primary, a replica and three sentinels (REDIS_SENTINELS), the
// replica replicating through a proxy the test can blackhole. The crash is
// a failover, not a restart: the servers keep running. `failover`: the
// primary is SIGKILLed and the sentinels promote the replica; `partition`:
// first the replication link goes dark some operations before (requests
// commit on the primary meanwhile), then the same. The old primary comes back as the new
// master's replica, so that REDIS_WAIT_REPLICAS=1 can be met again.
import { cli, type SentinelSetup, startSentinel, until } from '../node/redis-topology'
import { type NodeStack, startNodeStack } from '../node/stack'
import { startProxy, type TcpProxy } from '../node/tcp-proxy'
import type { Cluster, Crash } from './cluster'
import { nodeEndpoints } from './redis-cluster'

export interface SentinelClusterOptions {
  /** Variables of every server: MAX_SESSIONS, REDIS_WAIT_REPLICAS, … */
  vars?: Record<string, string>
  /** Variables of the emulator too: the AppSecrets of the OA and App apps the servers share with it. */
  emulatorVars?: Record<string, string>
  /** `failover`, or `partition` (the replica cut off first). */
  fault: 'failover' | 'partition'
}

export async function startSentinelCluster(
  options: SentinelClusterOptions,
): Promise<Cluster & { output: readonly string[] }> {
  const { vars = {}, emulatorVars = {}, fault } = options
  let proxy: TcpProxy | undefined
  const setup: SentinelSetup = await startSentinel({
    link: async (port) => {
      proxy = await startProxy(port)
      return proxy.port
    },
  })
  let stack: NodeStack
  try {
    stack = await startNodeStack({
      servers: 3,
      emulatorVars,
      vars: { ...setup.vars, LOGIN_RATE_LIMIT: '0', USER_RATE_LIMIT: '0', ...vars },
      perServer: (i): Record<string, string> => (i === 2 ? { SESSION_CONSISTENCY: 'strict' } : {}),
    })
  } catch (err) {
    await proxy?.close()
    await setup.dispose()
    throw err
  }
  const servers = stack.servers
  let cutAt: number | undefined
  return {
    ...nodeEndpoints(stack, vars),
    get output() {
      return servers.flatMap((s) => s.output)
    },

    ...(fault === 'partition'
      ? {
          partition() {
            cutAt = performance.now()
            proxy?.blackhole('replication')
          },
        }
      : {}),

    async crash(): Promise<Crash> {
      const { primary, replica } = setup
      const killed = [
        `redis-server ${primary.pid} (the primary${fault === 'partition' ? ', cut off from its replica first' : ''})`,
      ]
      const killedAt = cutAt ?? performance.now()
      await primary.kill()
      await until(
        'the sentinels to promote the replica',
        async () => (await setup.master()) === replica.port,
        30_000,
      )
      proxy?.heal()
      // Back as the new master's replica (what the sentinels would make it, sooner).
      await primary.start(['--replicaof', '127.0.0.1', String(replica.port)])
      // A full resync can start over when the sentinels reconfigure the returning
      // server meanwhile (each waits out repl-diskless-sync-delay): over a minute
      // once on a busy 2-core CI machine, so up to two.
      await until(
        'the old primary to replicate',
        async () =>
          (await cli(primary.port, 'INFO', 'replication')).includes('master_link_status:up'),
        120_000,
      )
      return { killedAt, restartedAt: performance.now(), killed }
    },

    async dispose() {
      try {
        await stack.dispose()
      } finally {
        await proxy?.close()
        await setup.dispose()
      }
    },
  }
}
