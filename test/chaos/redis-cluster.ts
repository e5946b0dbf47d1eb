// The chaos cluster on Node: three processes of the built server
// (`node examples/node/server.mjs`, dist/node.js) sharing one redis-server
// with AOF (`appendfsync always` by default), against the Node emulator. A
// crash SIGKILLs the three servers and redis-server at once and starts them
// again, Redis on the same directory (its AOF) and port. The emulator, which
// plays WeChat, keeps running.
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { type RedisServer, startRedis } from '../node/redis-server'
import { type NodeStack, startNodeStack } from '../node/stack'
import type { Cluster, Crash, Endpoint } from './cluster'

export interface RedisClusterOptions {
  /** Variables of every server: MAX_SESSIONS, … */
  vars?: Record<string, string>
  /** Variables of the emulator too: the AppSecrets of the OA and App apps the servers share with it. */
  emulatorVars?: Record<string, string>
  /**
   * `always`: Redis fsyncs before it answers, nothing acknowledged can be
   * lost even to a power cut; `everysec`: a crash of Redis alone loses
   * nothing (the kernel has the data), of the machine up to about a second.
   * @default 'always'
   */
  appendfsync?: 'always' | 'everysec'
  /** `persisted`, or `empty`: Redis restarts without its AOF (CHAOS_BREAK=persistence). */
  restart?: 'persisted' | 'empty'
}

/** The Redis cluster with its processes' output, for the report. */
export interface RedisCluster extends Cluster {
  readonly output: readonly string[]
}

const DEFAULTS = { MAX_SESSIONS: 10 } // src/config.ts

/**
 * The endpoints of three Node servers (the third answers for the strict
 * endpoint too: on Node every read asks Redis), the emulator, the settings.
 */
export function nodeEndpoints(stack: NodeStack, vars: Record<string, string>) {
  const endpoint = (name: string, index: number, strict = false): Endpoint => ({
    name,
    strict,
    get url() {
      return stack.servers[index]?.url as string
    },
  })
  return {
    edges: stack.servers.map((_, i) => endpoint(`node-${i}`, i)),
    strict: endpoint('strict', 2, true),
    emulator: { name: 'emulator', strict: false, url: stack.emulator.url },
    settings: { maxSessions: Number(vars.MAX_SESSIONS ?? DEFAULTS.MAX_SESSIONS), cacheSeconds: 0 },
  }
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const { vars = {}, emulatorVars = {}, appendfsync = 'always', restart = 'persisted' } = options
  const redis: RedisServer = await startRedis({ appendfsync })
  let stack: NodeStack
  try {
    stack = await startNodeStack({
      servers: 3,
      redisUrl: redis.url,
      emulatorVars,
      // No login limit: every request comes from 127.0.0.1, as the Miniflare cluster has none.
      vars: { LOGIN_RATE_LIMIT: '0', USER_RATE_LIMIT: '0', ...vars },
      perServer: (i): Record<string, string> => (i === 2 ? { SESSION_CONSISTENCY: 'strict' } : {}),
    })
  } catch (err) {
    await redis.dispose()
    throw err
  }
  const servers = stack.servers
  return {
    ...nodeEndpoints(stack, vars),
    get output() {
      return [...servers.flatMap((s) => s.output), ...redis.output]
    },

    async crash(): Promise<Crash> {
      const killed = [
        ...servers.map((s) => `node ${s.pid} (${s.name}, Node ${s.node.major})`),
        `redis-server ${redis.pid} (appendfsync ${appendfsync})`,
      ]
      const killedAt = performance.now()
      await Promise.all([...servers.map((s) => s.kill()), redis.kill()])
      if (restart === 'empty') {
        for (const name of await readdir(redis.dir)) {
          await rm(join(redis.dir, name), { recursive: true, force: true })
        }
      }
      await redis.start()
      await Promise.all(servers.map((s) => s.start()))
      return { killedAt, restartedAt: performance.now(), killed }
    },

    async dispose() {
      try {
        await stack.dispose()
      } finally {
        await redis.dispose()
      }
    },
  }
}
