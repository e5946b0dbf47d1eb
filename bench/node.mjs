// `npm run bench:node`: wxa-auth on Node with Redis, beside the same app on
// workerd and the seed's design (Django + a JWT session middleware on Redis,
// under gunicorn), on this machine, loaded by autocannon from a separate
// process (bench/load.mjs). Requests per second, latency, and CPU per
// request: utime + stime from /proc/<pid>/stat of the server's processes
// (and of redis-server apart), divided by the requests answered. Prints one
// markdown table. BENCH_WORKERS=0 / BENCH_SEED=0 leave those out.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { codes as codesFor, fmt, load, post } from './drive.mjs'
import { startEmulator, startNodeServer, startRedis } from './node-stack.mjs'
import { cpuOf, freePort, start, stopChildren, tree } from './proc.mjs'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4) // per scenario and round
const LOGINS = Number(process.env.BENCH_LOGINS ?? 1500) // per round
const SEED_WORKERS = Number(process.env.BENCH_SEED_WORKERS ?? 2 * cpus().length + 1) // gunicorn's advice
const APP_ID = 'wx0000000000bench1'

/** `n` login codes of 60 users, 25 logins each at the default. */
const codes = (emulator, n, round) =>
  codesFor(
    emulator,
    Array.from({ length: n }, (_, i) => `bench-${round}-${i % 60}`),
  )

/**
 * Runs every scenario `ROUNDS` times, interleaved; per run: the load
 * generator's numbers and the CPU the measured processes spent.
 */
async function measure(target) {
  const runs = Object.fromEntries(Object.keys(target.scenarios).map((name) => [name, []]))
  await load({ url: target.url, ...target.warmup, duration: 2 })
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, { login, ...options }] of Object.entries(target.scenarios)) {
      const extra = login
        ? { codes: await codes(target.emulator, LOGINS, `${target.name}-${round}`), amount: LOGINS }
        : { duration: SECONDS }
      const server = target.server()
      const store = target.store?.() ?? []
      const [before, storeBefore] = [cpuOf(server), cpuOf(store)]
      const result = await load({ url: target.url, ...options, ...extra })
      const [after, storeAfter] = [cpuOf(server), cpuOf(store)]
      runs[name].push({
        ...result,
        cpu: ((after - before) * 1000) / result.requests,
        storeCpu: store.length ? ((storeAfter - storeBefore) * 1000) / result.requests : null,
      })
      console.error(
        `round ${round + 1}: ${target.name}: ${name}: ${Math.round(result.rps)} req/s, ${result.errors} errors`,
      )
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  return Object.fromEntries(
    Object.entries(runs).map(([name, r]) => [
      name,
      {
        rps: median(r.map((x) => x.rps)),
        p50: median(r.map((x) => x.p50)),
        p99: median(r.map((x) => x.p99)),
        cpu: median(r.map((x) => x.cpu)),
        storeCpu: r[0].storeCpu === null ? null : median(r.map((x) => x.storeCpu)),
        errors: r.reduce((sum, x) => sum + x.errors, 0),
      },
    ]),
  )
}

const work = mkdtempSync(join(tmpdir(), 'wxa-bench-node-'))
const rows = []
try {
  // One Redis for all, as production would run it: AOF, fsync every second.
  const redis = await startRedis(work)
  const redisUrl = redis.url
  const secret = randomBytes(16).toString('hex')
  const { url: emulatorUrl } = await startEmulator({ appId: APP_ID, secret })
  const { url: appUrl, pid: serverPid } = await startNodeServer({
    redisUrl,
    emulatorUrl,
    appId: APP_ID,
    secret,
    jwtSecret: randomBytes(32).toString('base64url'),
    storageSecret: randomBytes(32).toString('base64url'),
  })
  const [first] = await codes(emulatorUrl, 1, 'setup')
  const { token } = await post(`${appUrl}/auth/login`, { code: first })
  if (!token) throw new Error('bench login failed')
  const node = await measure({
    name: 'node',
    url: appUrl,
    emulator: emulatorUrl,
    server: () => [serverPid],
    store: () => [redis.pid],
    warmup: { path: '/me', token },
    scenarios: {
      'GET /healthz (floor)': { path: '/healthz' },
      'GET /me (verify + Redis read)': { path: '/me', token },
      'PATCH /me/session (WATCH/MULTI/EXEC)': {
        method: 'PATCH',
        path: '/me/session',
        token,
        vary: 'n',
      },
      'POST /auth/login (emulator)': { method: 'POST', path: '/auth/login', login: true },
    },
  })
  for (const [name, r] of Object.entries(node)) rows.push({ name, runtime: 'Node + Redis', ...r })

  if (process.env.BENCH_SEED !== '0') {
    const seed = existsSync('/usr/bin/gunicorn') && probeDjango()
    if (seed) {
      const seedPort = await freePort()
      const gunicorn = await start(
        '/usr/bin/gunicorn',
        [
          // Threads: keep-alive connections, as the load generator (and a mini program) uses them.
          ...['--workers', String(SEED_WORKERS), '--worker-class', 'gthread', '--threads', '4'],
          ...['--bind', `127.0.0.1:${seedPort}`, '--chdir', 'bench/seed', 'app:application'],
        ],
        {
          env: { JWT_SECRET: randomBytes(32).toString('hex'), REDIS_URL: `${redisUrl}/1` },
          ready: /Booting worker with pid/,
        },
      )
      await new Promise((resolve) => setTimeout(resolve, 1500)) // every worker up
      const seedUrl = `http://127.0.0.1:${seedPort}`
      const { token: seedToken } = await post(`${seedUrl}/login`, { uid: 'bench' })
      const django = await measure({
        name: 'seed',
        url: seedUrl,
        server: () => tree(gunicorn.pid),
        store: () => [redis.pid],
        warmup: { path: '/me', token: seedToken },
        scenarios: {
          'GET /healthz (floor)': { path: '/healthz' },
          'GET /me (verify + Redis read and write)': { path: '/me', token: seedToken },
        },
      })
      for (const [name, r] of Object.entries(django)) {
        rows.push({
          name,
          runtime: `seed: Django ${seed}, gunicorn ${SEED_WORKERS} × 4 threads`,
          ...r,
        })
      }
    } else {
      console.error('seed: skipped (no /usr/bin/gunicorn or no Django for /usr/bin/python3)')
    }
  }

  if (process.env.BENCH_WORKERS !== '0') rows.push(...(await workers()))
} finally {
  stopChildren()
  rmSync(work, { recursive: true, force: true })
}

function probeDjango() {
  try {
    return execFileSync(
      '/usr/bin/python3',
      ['-c', 'import django, django_redis, jwt, redis; print(django.get_version())'],
      { encoding: 'utf8' },
    ).trim()
  } catch {
    return null
  }
}

/** The same app on workerd (Miniflare: KV and the session objects simulated, the emulator inside). */
async function workers() {
  const { bundleWorker } = await import('../scripts/bundle-worker.mjs')
  const { Miniflare } = await import('miniflare')
  const script = await bundleWorker('src/dev.ts')
  const before = new Set(tree(process.pid))
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2026-07-30',
    kvNamespaces: ['SESSIONS'],
    durableObjects: {
      USER_SESSIONS: { className: 'UserSessions', useSQLite: true },
      WECHAT_EMULATOR: { className: 'WeChatEmulator', useSQLite: true },
    },
    bindings: {
      JWT_SECRET: randomBytes(32).toString('base64url'),
      STORAGE_SECRET: randomBytes(32).toString('base64url'),
      WECHAT_APP_ID: 'wx00000000emulator',
    },
    host: '127.0.0.1',
    port: 0,
    cf: false,
  })
  try {
    const url = (await mf.ready).origin
    const workerd = tree(process.pid).filter((pid) => !before.has(pid))
    const [first] = await codes(url, 1, 'workers-setup')
    const { token } = await post(`${url}/auth/login`, { code: first })
    const result = await measure({
      name: 'workers',
      url,
      emulator: url,
      server: () => workerd.filter((pid) => existsSync(`/proc/${pid}`)),
      warmup: { path: '/me', token },
      scenarios: {
        'GET /healthz (floor)': { path: '/healthz' },
        'GET /me (verify + isolate cache)': { path: '/me', token },
        'PATCH /me/session (object call + KV write)': {
          method: 'PATCH',
          path: '/me/session',
          token,
          vary: 'n',
        },
        'POST /auth/login (emulator)': { method: 'POST', path: '/auth/login', login: true },
      },
    })
    return Object.entries(result).map(([name, r]) => ({
      name,
      runtime: 'Workers (workerd via Miniflare)',
      ...r,
    }))
  } finally {
    await mf.dispose()
  }
}

const lines = [
  `wxa-auth bench:node, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version} (load and servers), autocannon 16 connections, ${SECONDS} s per scenario, median of ${ROUNDS} rounds`,
  '',
  '| runtime | scenario | req/s | p50 ms | p99 ms | server CPU ms/req | Redis CPU ms/req | errors |',
  '|---|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.runtime} | ${r.name} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.cpu, 3)} | ${fmt(r.storeCpu, 3)} | ${r.errors} |`,
  ),
  '',
]
const me = (runtime) =>
  rows.find((r) => r.runtime.startsWith(runtime) && r.name.startsWith('GET /me'))
const [nodeMe, seedMe, workersMe] = [me('Node'), me('seed'), me('Workers')]
if (nodeMe && seedMe) {
  lines.push(
    `- Node /me : seed /me = ${fmt(nodeMe.rps / seedMe.rps, 2)} in req/s (goal ≥ 2), ${fmt(seedMe.cpu / nodeMe.cpu, 2)} × less server CPU per request`,
  )
}
if (nodeMe && workersMe) {
  lines.push(`- Node /me : Workers /me = ${fmt(nodeMe.rps / workersMe.rps, 2)} in req/s`)
}
console.log(lines.join('\n'))
