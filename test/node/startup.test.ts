// The Node server says what is wrong before it listens: `node
// examples/node/server.mjs` spawned with a missing secret, a Redis that wants
// a password, a wrong password, a self-signed TLS certificate, an unknown
// host, and a Redis that loses acknowledged writes. Each exits non-zero
// within a bounded time with one line naming the variable and the Node way
// to fix it (never wrangler). Then, once running: a Redis that stalls
// answers 503 instead of hanging (L-2), /readyz follows Redis's PING, and
// reports Redis's durability settings (L-3).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorClient, startEmulator } from '../../src/testing-node'
import { freePort, type RedisServer, redisServerBinary, startRedis } from './redis-server'
import { APP_ID, caller, nodeBinaries, startChild } from './stack'

const node = nodeBinaries().at(-1) as { path: string; major: number }
const SECRET = randomBytes(16).toString('hex')
const base = () => ({
  WECHAT_APP_ID: APP_ID,
  WECHAT_APP_SECRET: SECRET,
  JWT_SECRET: randomBytes(32).toString('base64url'),
  STORAGE_SECRET: randomBytes(32).toString('base64url'),
})

/** Runs the server until it exits (or `ms` pass): its exit code, what it printed, how long it took. */
async function runToExit(env: Record<string, string | undefined>, ms = 20_000) {
  const port = await freePort()
  const started = Date.now()
  const child = spawn(node.path, ['examples/node/server.mjs'], {
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => output.push(line))
  }
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      resolve(null)
    }, ms)
    child.once('exit', (exit) => {
      clearTimeout(timer)
      resolve(exit)
    })
  })
  await new Promise((resolve) => setTimeout(resolve, 50)) // the last lines
  return { code, text: output.join('\n'), ms: Date.now() - started }
}

const expectNodeWording = (text: string) => {
  expect(text).not.toMatch(/wrangler/i)
  expect(text).not.toContain('listening on')
}

describe('configuration errors stop the start', () => {
  it.each([
    ['STORAGE_SECRET', { STORAGE_SECRET: undefined }],
    ['JWT_SECRET', { JWT_SECRET: 'short' }],
    ['WECHAT_APP_SECRET', { WECHAT_APP_SECRET: undefined }],
    ['WECHAT_APP_ID', { WECHAT_APP_ID: undefined, WECHAT_APP_SECRET: undefined }],
    ['REDIS_DURABILITY', { REDIS_DURABILITY: 'paranoid', REDIS_URL: 'redis://127.0.0.1:1' }],
  ])('%s: exits 1 before listening, naming it and how to set it on Node', async (name, vars) => {
    const { code, text } = await runToExit({ ...base(), ...vars })
    expect(code, text).toBe(1)
    expect(text).toContain(`cannot start: `)
    expect(text).toContain(name)
    expect(text).toContain(`set ${name} in the server's environment`)
    expect(text).toContain('--env-file=.env')
    expectNodeWording(text)
  })
})

describe('a guessable secret (L-6)', () => {
  it('stops the start: CONFIG_INVALID naming the variable, never quoting the value', async () => {
    const guessable = 'password1234567890password1234567'
    const { code, text } = await runToExit({ ...base(), JWT_SECRET: guessable })
    expect(code, text).toBe(1)
    expect(text).toContain('JWT_SECRET does not look random')
    expect(text).not.toContain(guessable)
  })
})

describe('Redis at start', () => {
  let redis: RedisServer
  let plain: RedisServer
  let managed: RedisServer
  let tls: { url: string; child: ChildProcess; dir: string }
  beforeAll(async () => {
    redis = await startRedis({ args: ['--requirepass', 'open-sesame-4711'] })
    plain = await startRedis({ appendonly: false, args: ['--maxmemory-policy', 'allkeys-lru'] })
    // As a managed Redis that refuses CONFIG: the command renamed away.
    managed = await startRedis({ args: ['--rename-command', 'CONFIG', ''] })
    const dir = await mkdtemp(join(tmpdir(), 'wxa-tls-'))
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    )
    const port = await freePort()
    const child = spawn(
      redisServerBinary(),
      [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--tls-cert-file',
        join(dir, 'cert.pem'),
        '--tls-key-file',
        join(dir, 'key.pem'),
        '--tls-auth-clients',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    )
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (/Ready to accept connections/.test(line)) resolve()
      })
      child.once('exit', () => reject(new Error('redis-server with TLS did not start')))
    })
    tls = { url: `rediss://localhost:${port}`, child, dir }
  })
  afterAll(async () => {
    tls?.child.kill('SIGKILL')
    if (tls) await rm(tls.dir, { recursive: true, force: true })
    await redis?.dispose()
    await plain?.dispose()
    await managed?.dispose()
  })

  it.each([
    ['no password', () => redis.url, /asks for a password and REDIS_URL has none/],
    [
      'a wrong password',
      () => redis.url.replace('redis://', 'redis://:not-the-password@'),
      /refused the user or password in REDIS_URL/,
    ],
    ['a self-signed certificate', () => tls.url, /certificate.*not trusted.*NODE_EXTRA_CA_CERTS/],
    [
      'an unknown host',
      () => 'redis://wxa-redis.invalid:6379',
      /host of REDIS_URL .* does not resolve/,
    ],
  ])('%s: exits 1 within about 10 s, naming REDIS_URL and the fix', async (_, url, hint) => {
    const { code, text, ms } = await runToExit({ ...base(), REDIS_URL: url() })
    expect(code, text).toBe(1)
    expect(text).toMatch(/cannot start: REDIS_URL: /)
    expect(text).toMatch(hint)
    expect(text).not.toContain('open-sesame-4711')
    expect(text).not.toContain('not-the-password')
    expect(ms).toBeLessThan(15_000)
    expectNodeWording(text)
  })

  it('REDIS_DURABILITY=strict refuses a Redis without AOF and with eviction', async () => {
    const { code, text } = await runToExit({
      ...base(),
      REDIS_URL: plain.url,
      REDIS_DURABILITY: 'strict',
    })
    expect(code, text).toBe(1)
    expect(text).toContain('REDIS_DURABILITY=strict')
    expect(text).toContain('appendonly no')
    expect(text).toContain('maxmemory-policy allkeys-lru')
  })

  it('a Redis that refuses CONFIG: the settings are unknown, not an error, even when strict', async () => {
    const server = await startChild({
      name: 'server',
      script: 'examples/node/server.mjs',
      port: await freePort(),
      env: { ...base(), REDIS_URL: managed.url, REDIS_DURABILITY: 'strict' },
      node: node as never,
      probe: '/healthz',
    })
    try {
      expect(await caller(server.url)('/readyz')).toEqual({
        status: 200,
        body: {
          ok: true,
          redis: { appendonly: 'unknown', appendfsync: 'unknown', 'maxmemory-policy': 'unknown' },
          audit: { lost: 0 },
        },
      })
    } finally {
      await server.kill()
    }
  })

  it('warns once per setting that loses writes, and /readyz reports the settings', async () => {
    const port = await freePort()
    const server = await startChild({
      name: 'server',
      script: 'examples/node/server.mjs',
      port,
      env: { ...base(), REDIS_URL: plain.url },
      node: node as never,
      probe: '/healthz',
    })
    try {
      await new Promise((resolve) => setTimeout(resolve, 100))
      const warned = server.output.filter((line) => line.includes('REDIS_DURABILITY=strict'))
      expect(warned).toHaveLength(2)
      expect(warned[0]).toContain('appendonly no')
      expect(warned[1]).toContain('maxmemory-policy allkeys-lru')
      const ready = await caller(server.url)('/readyz')
      expect(ready).toEqual({
        status: 200,
        body: {
          ok: true,
          redis: { appendonly: 'no', appendfsync: 'everysec', 'maxmemory-policy': 'allkeys-lru' },
          audit: { lost: 0 },
        },
      })
    } finally {
      await server.kill()
    }
  })
})

describe('a Redis that stalls or goes away once running', () => {
  let redis: RedisServer
  let emulator: Awaited<ReturnType<typeof startEmulator>>
  beforeAll(async () => {
    redis = await startRedis()
    emulator = await startEmulator({ env: { WECHAT_APP_ID: APP_ID, WECHAT_APP_SECRET: SECRET } })
  })
  afterAll(async () => {
    if (redis?.pid) process.kill(redis.pid, 'SIGCONT')
    await redis?.dispose()
    await emulator?.close()
  })

  it('answers 503 within the command timeout while Redis is stopped, and /readyz says so', async () => {
    const port = await freePort()
    const server = await startChild({
      name: 'server',
      script: 'examples/node/server.mjs',
      port,
      env: {
        ...base(),
        REDIS_URL: redis.url,
        WECHAT_API_BASE: emulator.url,
        REDIS_COMMAND_TIMEOUT_MS: '1000',
      },
      node: node as never,
      probe: '/healthz',
    })
    const call = caller(server.url)
    try {
      const code = await emulatorClient(emulator.url).loginCode('stall-1')
      const login = await call('/auth/login', { method: 'POST', json: { code } })
      expect(login.status, JSON.stringify(login.body)).toBe(200)
      const token = login.body.token as string
      expect((await call('/readyz')).body).toMatchObject({ ok: true, redis: { appendonly: 'yes' } })

      process.kill(redis.pid as number, 'SIGSTOP') // Redis holds every reply: a stall
      let began = Date.now()
      const write = await call('/me/session', { method: 'PATCH', token, json: { cart: 1 } })
      const writeMs = Date.now() - began
      began = Date.now()
      const read = await call('/me', { token })
      const readMs = Date.now() - began
      const ready = await call('/readyz')
      process.kill(redis.pid as number, 'SIGCONT')

      expect(write.status).toBe(503)
      // Its WATCH and reads went unanswered, so nothing was sent to commit: unavailable, not unknown.
      expect(write.body.error.code).toBe('STORAGE_UNAVAILABLE')
      expect(read).toMatchObject({ status: 503, body: { error: { code: 'STORAGE_UNAVAILABLE' } } })
      expect(writeMs).toBeLessThan(5000)
      expect(readMs).toBeLessThan(5000)
      expect(ready).toMatchObject({ status: 503, body: { ok: false, failing: 'REDIS_URL' } })

      // Back: the same session works again, on fresh connections.
      const deadline = Date.now() + 10_000
      let after = await call('/me/session', { method: 'PATCH', token, json: { cart: 2 } })
      while (after.status !== 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200))
        after = await call('/me/session', { method: 'PATCH', token, json: { cart: 2 } })
      }
      expect(after.status, JSON.stringify(after.body)).toBe(200)
      expect((await call('/readyz')).status).toBe(200)

      // Gone: /readyz is 503 while Redis is down, 200 once it is back (retried, not fatal).
      await redis.kill()
      expect(await call('/readyz')).toMatchObject({ status: 503, body: { failing: 'REDIS_URL' } })
      await redis.start()
      const back = Date.now() + 10_000
      let again = await call('/readyz')
      while (again.status !== 200 && Date.now() < back) {
        await new Promise((resolve) => setTimeout(resolve, 200))
        again = await call('/readyz')
      }
      expect(again.status).toBe(200)
      expect((await call('/me', { token })).status).toBe(200)
    } finally {
      await server.kill()
    }
  })
})
