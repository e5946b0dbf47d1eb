// `npm run dev:node` keeps the secrets it made in `.dev.vars.node` (in the
// working directory, git-ignored): restarted on the same Redis, a session
// of the first run is still valid. The script runs as `npm run dev:node`
// runs it (after the build), from a temporary working directory.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorClient } from '../../src/testing-node'
import { freePort, type RedisServer, startRedis } from './redis-server'
import { caller } from './stack'

const SCRIPT = resolve('scripts/dev-node.mjs')

let redis: RedisServer
let cwd: string
beforeAll(async () => {
  redis = await startRedis()
  cwd = await mkdtemp(join(tmpdir(), 'wxa-dev-node-'))
})
afterAll(async () => {
  await redis?.dispose()
  if (cwd) await rm(cwd, { recursive: true, force: true })
})

async function devNode(port: number, emulatorPort: number) {
  const child = spawn(process.execPath, [SCRIPT], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      EMULATOR_PORT: String(emulatorPort),
      REDIS_URL: redis.url,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  const deadline = Date.now() + 20_000
  for (;;) {
    const up = await Promise.all(
      [port, emulatorPort].map((p) =>
        fetch(`http://127.0.0.1:${p}/healthz`).then(
          (res) => res.status < 500,
          () => false,
        ),
      ),
    )
    if (up.every(Boolean)) return child
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`npm run dev:node did not start:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function stop(child: ChildProcess) {
  const gone = new Promise((r) => child.once('exit', r))
  process.kill(-(child.pid as number), 'SIGTERM')
  await gone
  await new Promise((r) => setTimeout(r, 200)) // the children's ports free again
}

describe('npm run dev:node', () => {
  it('keeps its secrets in .dev.vars.node: a session outlives a restart on Redis', async () => {
    const [port, emulatorPort] = [await freePort(), await freePort()]
    let child = await devNode(port, emulatorPort)
    const call = caller(`http://127.0.0.1:${port}`)
    let token: string
    try {
      const code = await emulatorClient(`http://127.0.0.1:${emulatorPort}`).loginCode('alice')
      const login = await call('/auth/login', { method: 'POST', json: { code } })
      expect(login.status, JSON.stringify(login.body)).toBe(200)
      token = login.body.token
    } finally {
      await stop(child)
    }
    const kept = await readFile(join(cwd, '.dev.vars.node'), 'utf8')
    expect(kept).toMatch(/^JWT_SECRET=\S{32,}$/m)
    expect(kept).toMatch(/^STORAGE_SECRET=\S{32,}$/m)

    child = await devNode(port, emulatorPort)
    try {
      const me = await call('/me', { token })
      expect(me.status, JSON.stringify(me.body)).toBe(200)
    } finally {
      await stop(child)
    }
    expect(await readFile(join(cwd, '.dev.vars.node'), 'utf8')).toBe(kept)
  })

  it('keeps the file out of git', () => {
    const ignored = execFileSync('git', ['check-ignore', '.dev.vars.node'], { encoding: 'utf8' })
    expect(ignored.trim()).toBe('.dev.vars.node')
  })
})
