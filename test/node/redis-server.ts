// A Redis of the test's own: Debian's `redis-server` on a free port with AOF
// in a temporary directory (`--save '' --appendonly yes --dir <tmp>`),
// started and stopped here, never one that happens to be running. It can be
// SIGKILLed and started again on the same directory and port.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const START_TIMEOUT_MS = 10_000

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** The `redis-server` binary, or a clear error saying how to get it. */
export function redisServerBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error(
      'redis-server is not installed: `apt-get install -y redis-server` (.ci/run installs it)',
    )
  }
}

export interface RedisOptions {
  /** `always` (fsync before each reply batch), `everysec` (Redis's default), `no`. @default 'everysec' */
  appendfsync?: 'always' | 'everysec' | 'no'
  /** Cluster mode on one node owning every slot: multi-key commands across slots fail (CROSSSLOT). */
  cluster?: boolean
  /** `--appendonly`: false runs it as a snapshot-only Redis would lose writes. @default true */
  appendonly?: boolean
  /** More arguments of redis-server (`--replicaof …`, `--requirepass …`, `--maxmemory-policy …`). */
  args?: string[]
}

export interface RedisServer {
  readonly url: string
  readonly port: number
  /** Where the AOF lives. */
  readonly dir: string
  /** The running process's id; undefined while stopped. */
  readonly pid: number | undefined
  /** Lines it printed. */
  readonly output: readonly string[]
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>
  /** Starts it again on the same port and directory (after `kill`), with `more` arguments from now on. */
  start(more?: string[]): Promise<void>
  /** Kills it and removes its directory. */
  dispose(): Promise<void>
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const { appendfsync = 'everysec', cluster = false, appendonly = true } = options
  const extra = [...(options.args ?? [])]
  const binary = redisServerBinary()
  const dir = await mkdtemp(join(tmpdir(), 'wxa-redis-'))
  const port = await freePort()
  const output: string[] = []
  let child: ChildProcess | undefined

  async function start(more: string[] = []) {
    extra.push(...more)
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      appendonly ? 'yes' : 'no',
      '--appendfsync',
      appendfsync,
      '--dir',
      dir,
      ...(cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'] : []),
      ...extra,
    ]
    const started = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child = started
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not start:\n${output.join('\n')}`)),
        START_TIMEOUT_MS,
      )
      for (const stream of [started.stdout, started.stderr]) {
        if (!stream) continue
        createInterface({ input: stream }).on('line', (line) => {
          output.push(line)
          if (/Ready to accept connections/.test(line)) {
            clearTimeout(timer)
            resolve()
          }
        })
      }
      started.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited (${code}):\n${output.join('\n')}`))
      })
    })
    await ready
    if (cluster) {
      // One node owning every slot: the key layout is checked as a cluster checks it.
      const cli = (args: string[]) =>
        execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' })
      if (!cli(['CLUSTER', 'INFO']).includes('cluster_state:ok')) {
        cli(['CLUSTER', 'ADDSLOTSRANGE', '0', '16383'])
        const deadline = Date.now() + START_TIMEOUT_MS
        while (!cli(['CLUSTER', 'INFO']).includes('cluster_state:ok')) {
          if (Date.now() > deadline) throw new Error('the one-node cluster did not come up')
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
    }
  }

  async function kill() {
    const running = child
    child = undefined
    if (!running) return
    running.kill('SIGKILL')
    await exited(running)
  }

  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child?.pid
    },
    output,
    kill,
    start: (more?: string[]) => start(more),
    async dispose() {
      await kill()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
