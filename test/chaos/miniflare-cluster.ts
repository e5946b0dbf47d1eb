// The chaos cluster on Miniflare: several isolates of the bundled dev Worker
// (src/dev.ts) in one workerd process, each with its own HTTP socket, all
// bound to one KV namespace, one namespace of session objects and one D1
// database (the directory and the audit log), persisted on disk. A crash
// SIGKILLs that workerd process and starts a new Miniflare on the same
// directories.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { Miniflare, type WorkerOptions } from 'miniflare'
import { bundle } from '../isolates/harness'
import type { Cluster, Crash, Endpoint } from './cluster'
import { childProcesses, killAndWait } from './processes'

export interface MiniflareClusterOptions {
  /** Edge isolates (`SESSION_CONSISTENCY=edge`); one strict isolate comes on top. @default 3 */
  edges?: number
  /** Bindings of every isolate: MAX_SESSIONS, SESSION_CACHE_SECONDS, … */
  vars?: Record<string, string>
  /**
   * `persisted` (the real thing): a crash restarts from the directories the
   * killed runtime wrote. `empty`: it restarts from new, empty ones, as a
   * deployment that loses its storage would (CHAOS_BREAK=persistence).
   * @default 'persisted'
   */
  restart?: 'persisted' | 'empty'
}

/** The Miniflare cluster with its runtime's output, for the report. */
export interface MiniflareCluster extends Cluster {
  /** Lines the runtime wrote to stdout and stderr, in order. */
  readonly output: readonly string[]
}

const DEFAULTS = { MAX_SESSIONS: 10, SESSION_CACHE_SECONDS: 5 } // src/config.ts

export async function startMiniflareCluster(
  options: MiniflareClusterOptions = {},
): Promise<MiniflareCluster> {
  const { edges = 3, vars = {}, restart = 'persisted' } = options
  const script = await bundle()
  const root = await mkdtemp(join(tmpdir(), 'wxa-chaos-'))
  // The secrets outlive a crash, as a deployment's do: tokens issued before it still verify.
  const secrets = {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    STORAGE_SECRET: randomBytes(32).toString('base64url'),
  }
  const names = [...Array.from({ length: edges }, (_, i) => `edge-${i}`), 'strict']
  const first = names[0] as string
  const output: string[] = []
  const collect = (stream: Readable) => {
    createInterface({ input: stream }).on('line', (line) => output.push(line))
  }
  let generation = 0

  const workers: WorkerOptions[] = names.map((name) => ({
    name,
    modules: true,
    script,
    compatibilityDate: '2026-07-30',
    // One namespace for all: the same id.
    kvNamespaces: { SESSIONS: 'wxa-auth-sessions' },
    // The directory and the audit log: what an operator's ban finds the user in.
    d1Databases: { DB: 'wxa-auth-operators' },
    // Its own socket: requests reach the isolate straight, as they would a server process.
    unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
    durableObjects:
      name === first
        ? {
            USER_SESSIONS: { className: 'UserSessions', useSQLite: true },
            WECHAT_EMULATOR: { className: 'WeChatEmulator', useSQLite: true },
          }
        : {
            USER_SESSIONS: { className: 'UserSessions', scriptName: first, useSQLite: true },
            WECHAT_EMULATOR: { className: 'WeChatEmulator', scriptName: first, useSQLite: true },
          },
    bindings: {
      ...secrets,
      WECHAT_APP_ID: 'wx00000000emulator',
      ...vars,
      ...(name === 'strict' ? { SESSION_CONSISTENCY: 'strict' } : {}),
    },
  }))

  interface Running {
    mf: Miniflare
    urls: Map<string, string>
    pids: number[]
  }

  async function launch(): Promise<Running> {
    const before = new Set(childProcesses().map((p) => p.pid))
    const state = join(root, `state-${restart === 'empty' ? generation : 0}`)
    generation++
    const mf = new Miniflare({
      workers,
      cf: false,
      kvPersist: join(state, 'kv'),
      d1Persist: join(state, 'd1'),
      durableObjectsPersist: join(state, 'do'),
      handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
        collect(stdout)
        collect(stderr)
      },
    })
    await mf.ready
    const urls = new Map<string, string>()
    for (const name of names) urls.set(name, String(await mf.unsafeGetDirectURL(name)))
    // The runtime this Miniflare spawned: the workerd child that was not there before.
    const pids = childProcesses()
      .filter((p) => p.command === 'workerd' && !before.has(p.pid))
      .map((p) => p.pid)
    if (pids.length === 0) {
      await mf.dispose()
      throw new Error('no workerd process found among the children of this process')
    }
    return { mf, urls, pids }
  }

  let running: Running | undefined = await launch()
  const endpoint = (name: string): Endpoint => ({
    name,
    strict: name === 'strict',
    get url() {
      const url = running?.urls.get(name)
      if (url === undefined) throw new Error(`${name} is down`)
      return url
    },
  })

  return {
    edges: names.slice(0, -1).map(endpoint),
    strict: endpoint('strict'),
    settings: {
      maxSessions: Number(vars.MAX_SESSIONS ?? DEFAULTS.MAX_SESSIONS),
      cacheSeconds: Number(vars.SESSION_CACHE_SECONDS ?? DEFAULTS.SESSION_CACHE_SECONDS),
    },
    output,

    async crash(): Promise<Crash> {
      const dead = running
      if (!dead) throw new Error('the cluster is not running')
      const killedAt = performance.now()
      const killing = killAndWait(dead.pids)
      // At once, before the runtime's exit is seen: a disposed Miniflare does
      // not restart its runtime by itself (it would, on an unexpected exit).
      running = undefined
      const disposed = dead.mf.dispose()
      await killing
      await disposed.catch(() => {}) // its runtime is already gone
      running = await launch()
      await Promise.all(
        [...running.urls.values()].map(async (url) => {
          const res = await fetch(new URL('/healthz', url))
          if (!res.ok) throw new Error(`${url}/healthz: ${res.status}`)
          await res.body?.cancel()
        }),
      )
      return {
        killedAt,
        restartedAt: performance.now(),
        killed: dead.pids.map((pid) => `workerd ${pid}`),
      }
    },

    async dispose() {
      const last = running
      running = undefined
      try {
        await last?.mf.dispose()
      } finally {
        await rm(root, { recursive: true, force: true })
      }
    },
  }
}
