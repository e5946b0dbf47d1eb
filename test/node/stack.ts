// wxa-auth on Node as it is deployed: `node examples/node/server.mjs` (the
// built package, `dist/node.js`) as several processes sharing one Redis,
// against `node examples/node/emulator.mjs`, every one a child process of
// the test, killed and started again at will. The servers alternate between
// the Node versions found here (the system's and the `node` package's), so
// that dist/node.js runs on both.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { createInterface } from 'node:readline'
import { freePort } from './redis-server'

const START_TIMEOUT_MS = 20_000
export const APP_ID = 'wx0000000000node01'

/** A `node` binary and its major version. */
export interface NodeBinary {
  path: string
  major: number
}

/**
 * The Node binaries to run the servers with, one per major version: the
 * `node` package's (24, what npm scripts run) and the first other `node` on
 * PATH (the system's, 20 here).
 */
export function nodeBinaries(): NodeBinary[] {
  const candidates = [
    join(process.cwd(), 'node_modules/node/bin/node'),
    process.execPath,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'node')),
  ]
  const found = new Map<number, NodeBinary>()
  for (const path of candidates) {
    if (!existsSync(path)) continue
    try {
      const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim()
      const major = Number(/^v(\d+)/.exec(version)?.[1])
      if (!found.has(major)) found.set(major, { path, major })
    } catch {}
  }
  return [...found.values()].sort((a, b) => a.major - b.major)
}

export interface Child {
  readonly name: string
  readonly url: string
  readonly pid: number | undefined
  readonly node: NodeBinary
  /** What it printed, line by line. */
  readonly output: readonly string[]
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>
  /** Starts it again (same port, same environment). */
  start(): Promise<void>
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Runs `node <script>` with `env` on `port`, up once `probe` answers 200. */
export async function startChild(options: {
  name: string
  script: string
  port: number
  env: Record<string, string>
  node: NodeBinary
  probe: string
}): Promise<Child> {
  const { name, script, port, env, node, probe } = options
  const url = `http://127.0.0.1:${port}`
  const output: string[] = []
  let child: ChildProcess | undefined
  async function start() {
    const started = spawn(node.path, [script], {
      env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = started
    for (const stream of [started.stdout, started.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => output.push(line))
    }
    const deadline = Date.now() + START_TIMEOUT_MS
    for (;;) {
      if (started.exitCode !== null) {
        throw new Error(`${name} exited (${started.exitCode}):\n${output.join('\n')}`)
      }
      try {
        const res = await fetch(new URL(probe, url))
        await res.body?.cancel()
        if (res.ok) return
      } catch {}
      if (Date.now() > deadline) {
        // Not left running behind the failed test.
        started.kill('SIGKILL')
        throw new Error(`${name} did not start:\n${output.join('\n')}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  await start()
  return {
    name,
    url,
    node,
    output,
    get pid() {
      return child?.pid
    },
    async kill() {
      const running = child
      child = undefined
      if (!running) return
      running.kill('SIGKILL')
      await exited(running)
    },
    start,
  }
}

export interface NodeStack {
  readonly emulator: Child
  readonly servers: readonly Child[]
  /** The variables every server runs with (secrets included). */
  readonly vars: Readonly<Record<string, string>>
  /** Kills every process. */
  dispose(): Promise<void>
}

/**
 * The emulator and `servers` server processes on `redisUrl` (none: each in
 * its own memory). `vars` are added to every server's environment, and then
 * what `besideEmulator` gives once the emulator runs (e.g. a relay in front
 * of it); the emulator delivers pushes to the first server.
 */
export async function startNodeStack({
  servers = 3,
  redisUrl,
  vars = {},
  perServer = () => ({}),
  script = 'examples/node/server.mjs',
  besideEmulator,
  emulatorVars = {},
}: {
  servers?: number
  redisUrl?: string
  vars?: Record<string, string>
  perServer?: (index: number) => Record<string, string>
  /** The server each process runs. */
  script?: string
  /** Added to the emulator's environment (the apps of other platforms it plays). */
  emulatorVars?: Record<string, string>
  besideEmulator?: (
    emulator: Child,
    shared: { WECHAT_APP_ID: string; WECHAT_APP_SECRET: string },
  ) => Promise<Record<string, string>>
}): Promise<NodeStack> {
  const binaries = nodeBinaries()
  const newest = binaries[binaries.length - 1] as NodeBinary
  const ports = await Promise.all(Array.from({ length: servers + 1 }, () => freePort()))
  const [emulatorPort, ...serverPorts] = ports as [number, ...number[]]
  const shared = {
    WECHAT_APP_ID: APP_ID,
    WECHAT_APP_SECRET: randomBytes(16).toString('hex'),
    WECHAT_EVENT_TOKEN: randomBytes(16).toString('hex'),
  }
  const emulator = await startChild({
    name: 'emulator',
    script: 'examples/node/emulator.mjs',
    port: emulatorPort,
    env: { ...shared, ...emulatorVars, APP_URL: `http://127.0.0.1:${serverPorts[0]}` },
    node: newest,
    probe: '/__emulator/access-token',
  })
  const all: Record<string, string> = {
    ...shared,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    STORAGE_SECRET: randomBytes(32).toString('base64url'),
    WECHAT_API_BASE: emulator.url,
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    ...vars,
    ...(await besideEmulator?.(emulator, shared)),
  }
  const started: Child[] = []
  try {
    for (const [i, port] of serverPorts.entries()) {
      started.push(
        await startChild({
          name: `node-${i}`,
          script,
          port,
          env: { ...all, ...perServer(i) },
          node: binaries[i % binaries.length] as NodeBinary,
          probe: '/healthz',
        }),
      )
    }
  } catch (err) {
    await Promise.all([emulator, ...started].map((child) => child.kill()))
    throw err
  }
  return {
    emulator,
    servers: started,
    vars: all,
    async dispose() {
      await Promise.all([emulator, ...started].map((child) => child.kill()))
    },
  }
}

/** An HTTP client of one process, the way a mini program calls it. */
export type Caller = (
  path: string,
  init?: {
    method?: string
    token?: string
    json?: unknown
    body?: string
    headers?: Record<string, string>
  },
) => Promise<{ status: number; body: any }>

export function caller(base: string): Caller {
  return async (path, { method = 'GET', token, json, body: raw, headers = {} } = {}) => {
    const res = await fetch(new URL(path, base), {
      method,
      headers: {
        ...(json !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...headers,
        ...(token ? { Authorization: `JWT ${token}` } : {}),
      },
      ...(json !== undefined
        ? { body: JSON.stringify(json) }
        : raw !== undefined
          ? { body: raw }
          : {}),
    })
    const text = await res.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {}
    return { status: res.status, body }
  }
}

/**
 * Waits for the next minute when this one ends in less than `margin` ms. The
 * Redis and memory limiters count in fixed windows of a minute: a test that
 * counts up to a limit must not cross into the next window, which starts at 0.
 */
export async function clearOfWindowEdge(margin = 10_000) {
  const window = 60_000 // RATE_WINDOW_MS of src/runtime/node/rate-limit.ts (this file is the chaos run's too)
  const left = window - (Date.now() % window)
  if (left < margin) await new Promise((resolve) => setTimeout(resolve, left + 50))
}
