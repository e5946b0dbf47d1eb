// The SCF recipe as the docs print it, run in a clean copy of the
// repository: the package it zips, unzipped into a directory of its own and
// started by its scf_bootstrap as SCF starts it (that working directory,
// PORT set, the function's variables; the system's Node, 20 here, stands in
// for /var/lang/node<major>). Then 32 users log in through a stand-in for
// the API gateway: TRUST_PROXY=1 (the bootstrap's default) counts each
// client, where TRUST_PROXY=0 caps the whole app at 30 logins a minute.
import { type ChildProcess, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator } from '../../src/testing-node'
import { cloneInto, gateway, loginMany, recipe, serverVars, startServer } from './deploy'
import { freePort, type RedisServer, startRedis } from './redis-server'
import { registryEnv } from './registry-env'
import { APP_ID, nodeBinaries } from './stack'

const SECRET = randomBytes(16).toString('hex')
const systemNode = nodeBinaries()[0] as { path: string; major: number }
let temp: string
let code: string
let redis: RedisServer
let emulator: Awaited<ReturnType<typeof startEmulator>>
const running: ChildProcess[] = []

beforeAll(async () => {
  temp = mkdtempSync(join(tmpdir(), 'wxa-scf-'))
  const clone = join(temp, 'clone')
  cloneInto(clone)
  execFileSync('bash', ['-euo', 'pipefail', '-c', recipe('scf')], {
    cwd: clone,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      npm_config_prefer_offline: 'true',
      ...registryEnv(),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 8 * 60_000,
  })
  code = join(temp, 'code') // where SCF unpacks the function
  mkdirSync(code)
  execFileSync('unzip', ['-q', join(clone, 'wxa-auth-scf.zip'), '-d', code])
  redis = await startRedis()
  emulator = await startEmulator({ env: { WECHAT_APP_ID: APP_ID, WECHAT_APP_SECRET: SECRET } })
}, 10 * 60_000)

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL')
  await redis?.dispose()
  await emulator?.close()
  if (temp) rmSync(temp, { recursive: true, force: true })
})

async function bootstrap(vars: Record<string, string> = {}) {
  const port = await freePort()
  const { url, output, child } = await startServer(join(code, 'scf_bootstrap'), [], {
    cwd: code,
    port,
    env: {
      PATH: `${join(systemNode.path, '..')}:/usr/bin:/bin`,
      PORT: String(port),
      ...serverVars(redis.url, emulator.url, SECRET),
      ...vars,
    },
  })
  running.push(child)
  return { url, output, stop: () => child.kill('SIGTERM') }
}

describe('SCF: the recipe and scf_bootstrap', () => {
  it(`starts as SCF starts it (Node ${systemNode.major}) and logs in 32 users behind the API gateway`, async () => {
    const server = await bootstrap()
    const front = await gateway(server.url)
    try {
      const statuses = await loginMany(front.url, emulator.url, 32)
      expect(
        statuses.filter((status) => status !== 200),
        server.output.join('\n'),
      ).toEqual([])
      expect(server.output.join('\n')).toContain('sessions in Redis')
    } finally {
      await front.close()
      server.stop()
    }
  })

  it('without TRUST_PROXY, the gateway makes every user one address: 429 after 30', async () => {
    const server = await bootstrap({ TRUST_PROXY: '0' })
    const front = await gateway(server.url)
    try {
      const statuses = await loginMany(front.url, emulator.url, 32)
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0)
    } finally {
      await front.close()
      server.stop()
    }
  })
})
