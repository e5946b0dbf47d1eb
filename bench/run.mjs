// `npm run bench`: what a request costs. The bench Worker (bench/worker.ts:
// the deployable app plus counters) runs on workerd through Miniflare's API,
// WeChat is the Node emulator in a process of its own, and wxa-auth's Node
// server runs on Redis beside it. autocannon loads each scenario from a
// separate process, the scenarios interleaved over ROUNDS rounds.
//
// The instrument is CPU time per request: utime + stime of the server's
// processes (/proc/<pid>/stat, all threads) before and after each run,
// divided by the requests served. It is what Workers bills, and it hangs far
// less than requests per second on how much of the two cores the load
// generator gets. From each run's counters and Cloudflare's list prices
// (bench/prices.mjs) it prices a million requests, and it prints the goals
// as pass or miss (bench/report.mjs). It stops by itself, in about three minutes.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32, deflateSync, gzipSync } from 'node:zlib'
import { Miniflare } from 'miniflare'
import { quietEnv } from '../scripts/wrangler.mjs'
import { batched, call, codes, fmt, load, loginAll, post } from './drive.mjs'
import { writeHistory } from './history.mjs'
import { nodeScenarios } from './node-peers.mjs'
import { redisServer, startEmulator, startRedis } from './node-stack.mjs'
import { commandOf, cpuOf, stopChildren, tree } from './proc.mjs'
import { report } from './report.mjs'
import { loadNow, saveResult } from './results.mjs'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1) // per timed run (autocannon counts whole seconds)
const LOGINS = Number(process.env.BENCH_LOGINS ?? 100) // per login scenario and round
const COLD = Number(process.env.BENCH_COLD ?? 1000) // cold-token requests per round
const REFRESHES = Number(process.env.BENCH_REFRESHES ?? 300) // per round
const BURST = 16 // requests dispatched in the isolate per HTTP request of a burst
const COLD_BURSTS = 100 // cold bursts per run
// The goals' in-isolate runs, in two sets of three, each set TRIO_TIMES times
// a round one after the other (TRIO_BURSTS bursts each for the hot set,
// COLD_BURSTS for the cold one), their order turned each time, so that none
// always follows the same one (a run collects some of the garbage of the one
// before). Each set has its own floor: the cold set's garbage stays out of the
// hot set's turns.
const SETS = [
  ['b-floor', 'b-hot', 'b-peer'],
  ['b-cold-floor', 'b-cold-own', 'b-cold-peer'],
]
const TRIO = SETS.flat()
const TRIO_TIMES = 6
const TRIO_BURSTS = 400
const SETTLE_MS = 300 // after each in-isolate run, before its CPU is read
// More sessions than an isolate keeps opened records of (1,000): a cold
// token's record is unsealed each time, not found opened.
const COLD_SESSIONS = Math.max(1200, 2 * LOGINS)
const POOL = 32 // sessions the write scenarios take turns on: no two writes to one session at once
const APP_ID = 'wx0000000000bench1'
// A returning user logs in once a round after a first login: under MAX_SESSIONS (10), no cap deletes.
if (ROUNDS > 9) throw new Error('BENCH_ROUNDS: at most 9')

const log = (line) => console.error(line)
const users = (prefix, n, from = 0) => Array.from({ length: n }, (_, i) => `${prefix}-${from + i}`)
const wallStart = performance.now()
const loadAtStart = loadNow()
const work = mkdtempSync(join(tmpdir(), 'wxa-bench-'))
let mf

try {
  log('building the production bundle and the bench Worker…')
  const bundle = buildBundles()
  const secrets = {
    appSecret: randomBytes(16).toString('hex'),
    jwt: randomBytes(32).toString('base64url'),
    storage: randomBytes(32).toString('base64url'),
  }
  const { url: emu } = await startEmulator({ appId: APP_ID, secret: secrets.appSecret })

  const before = new Set(tree(process.pid))
  mf = new Miniflare({
    modules: [
      {
        type: 'ESModule',
        path: 'worker.js',
        contents: readFileSync(join(work, 'bench', 'worker.js'), 'utf8'),
      },
    ],
    compatibilityDate: '2026-07-30',
    kvNamespaces: ['SESSIONS'],
    r2Buckets: ['AVATARS'],
    d1Databases: ['DB'],
    durableObjects: { USER_SESSIONS: { className: 'BenchUserSessions', useSQLite: true } },
    bindings: {
      JWT_SECRET: secrets.jwt,
      STORAGE_SECRET: secrets.storage,
      WECHAT_APP_ID: APP_ID,
      WECHAT_APP_SECRET: secrets.appSecret,
      WECHAT_API_BASE: emu,
    },
    host: '127.0.0.1',
    port: 0,
    cf: false,
  })
  const url = (await mf.ready).origin
  // Miniflare's workerd, a child of this process: the Worker, its objects and the simulators.
  const workerd = tree(process.pid).filter(
    (pid) => !before.has(pid) && commandOf(pid) === 'workerd',
  )
  if (workerd.length === 0) throw new Error('no workerd process below this one')
  const counters = () => call(`${url}/bench/counters`, { method: 'GET' })

  // /cold once a round; /cold-own and the stateful peer in each turn of the goals' runs.
  const coldTokens = (COLD + (1 + 2 * TRIO_TIMES) * COLD_BURSTS * BURST) * ROUNDS
  log(`setting up: ${COLD_SESSIONS + POOL + 1} logins, ${coldTokens} cold tokens…`)
  const [hot] = await loginAll(url, emu, ['bench-hot'])
  const known = await loginAll(url, emu, users('bench-user', COLD_SESSIONS))
  const refreshLogins = await loginAll(url, emu, users('bench-refresh', POOL), null)
  let refreshing = refreshLogins.map((answer) => answer.refreshToken)
  // A login writes no KV copy of its session; the first read at the edge does.
  await readAtEdge(
    url,
    refreshLogins.map((answer) => answer.token),
  )
  await readAtEdge(url, known)
  const pool = known.slice(-POOL)
  const { tokens: cold } = await post(`${url}/bench/tokens`, { tokens: known, n: coldTokens })
  const { keys: copies } = await post(`${url}/bench/records`, { tokens: known })
  if (copies !== known.length) throw new Error(`${copies} of ${known.length} records copied`)
  const sealed = await post(`${emu}/__emulator/user-data`, {
    openid: 'bench-hot',
    data: { nickName: 'bench' },
  })
  /** `n` cold tokens that no request has carried yet. */
  let coldUsed = 0
  const freshCold = (n) => {
    coldUsed += n
    return cold.slice(coldUsed - n, coldUsed)
  }

  const timed = (options) => () => ({ ...options, duration: SECONDS })
  const burst =
    (path, options = {}) =>
    () => ({
      burst: { path, size: BURST },
      tokens: [hot],
      amount: TRIO_BURSTS,
      ...options,
    })
  /** A burst of tokens no request carried before, to `path` in the isolate. */
  const coldBurst =
    (path, options = {}) =>
    () => ({
      burst: { path, size: BURST },
      tokens: freshCold(COLD_BURSTS * BURST),
      amount: COLD_BURSTS,
      ...options,
    })
  const logins = (openids, rotateSessionKey) => async (round) => ({
    method: 'POST',
    path: '/auth/login',
    codes: await codes(emu, openids(round), { rotateSessionKey }),
    amount: LOGINS,
  })
  const workers = { url, server: () => workerd, counters }
  const scenarios = [
    { key: 'floor', name: 'GET /healthz (floor)', options: timed({ path: '/healthz' }) },
    { key: 'hot', name: 'GET /me, hot token', options: timed({ path: '/me', token: hot }) },
    {
      key: 'cold',
      name: 'GET /me, cold token',
      options: () => ({ path: '/cold/me', tokens: freshCold(COLD), amount: COLD }),
    },
    {
      key: 'strict',
      name: 'GET /me, strict mode',
      options: timed({ path: '/strict/me', token: hot }),
    },
    {
      key: 'peer',
      name: 'GET /me behind hono/jwt (stateless peer)',
      options: timed({ path: '/bench/stateless-me', token: hot, scheme: 'Bearer' }),
    },
    {
      key: 'write',
      name: 'PATCH /me/session (a session write)',
      options: timed({ method: 'PATCH', path: '/me/session', tokens: pool, vary: 'n' }),
    },
    {
      key: 'refresh',
      name: 'POST /auth/refresh',
      options: () => ({
        method: 'POST',
        path: '/auth/refresh',
        tokens: refreshing,
        chain: true,
        amount: REFRESHES,
      }),
      after: (result) => {
        refreshing = result.tokens
      },
    },
    {
      key: 'decrypt',
      name: 'POST /auth/decrypt',
      options: timed({ method: 'POST', path: '/auth/decrypt', token: hot, body: sealed }),
    },
    {
      key: 'profile',
      name: 'PUT /auth/profile (a 4 KiB avatar)',
      options: timed({ method: 'PUT', path: '/auth/profile', tokens: pool, multipart: avatar() }),
    },
    {
      key: 'first',
      name: "POST /auth/login, a user's first",
      options: logins((round) => users(`bench-new-${round}`, LOGINS), false),
    },
    {
      key: 'returning',
      name: 'POST /auth/login, returning, new session_key',
      options: logins(() => users('bench-user', LOGINS), true),
    },
    {
      key: 'same',
      name: 'POST /auth/login, returning, same session_key',
      options: logins(() => users('bench-user', LOGINS, LOGINS), false),
    },
    // In the isolate, BURST to an HTTP request: what the app itself does, per request.
    { key: 'b-floor', name: 'GET /healthz (floor)', options: burst('/healthz'), per: BURST },
    {
      key: 'b-cold-floor',
      name: 'GET /healthz (floor of the cold runs)',
      options: burst('/healthz', { amount: COLD_BURSTS }),
      per: BURST,
    },
    { key: 'b-hot', name: 'GET /me, hot token', options: burst('/me'), per: BURST },
    {
      key: 'b-cold',
      name: 'GET /me, cold token',
      options: coldBurst('/cold/me'),
      per: BURST,
    },
    {
      key: 'b-cold-own',
      name: 'GET /me, cold token, its record read from memory (no KV simulator)',
      options: coldBurst('/cold-own/me'),
      per: BURST,
    },
    {
      key: 'b-cold-peer',
      name: 'GET /me behind hono/jwt and a KV read of the session (stateful peer), cold token, from memory',
      options: coldBurst('/bench/stateful-me', { scheme: 'Bearer' }),
      per: BURST,
    },
    {
      key: 'b-peer',
      name: 'GET /me behind hono/jwt (stateless peer)',
      options: burst('/bench/stateless-me', { scheme: 'Bearer' }),
      per: BURST,
    },
  ].map((scenario) => ({ ...scenario, target: workers }))

  // Node + Redis beside it, in the same rounds, when redis-server is there (bench/node-peers.mjs).
  const nodeSkipped = redisServer() ? null : 'redis-server is not on the PATH'
  let nodeMemory = null
  if (!nodeSkipped) {
    log('setting up Node + Redis and its peers…')
    const redis = await startRedis(work)
    const node = await nodeScenarios({
      redis,
      emu,
      appId: APP_ID,
      secrets,
      rounds: ROUNDS,
    })
    scenarios.push(...node.scenarios)
    nodeMemory = node.memory
  }

  log('warming up…')
  await load({ url, path: '/me', token: hot, duration: 1 })
  await load({ url, path: '/bench/stateless-me', token: hot, scheme: 'Bearer', duration: 1 })
  // Each round: every scenario once, the goals' three in-isolate runs TRIO_TIMES
  // times in turned orders, each scenario's runs of a round pooled.
  const named = Object.fromEntries(scenarios.map((scenario) => [scenario.key, scenario]))
  const schedule = [
    ...SETS.flatMap((set) =>
      Array.from({ length: TRIO_TIMES }, (_, i) => [
        ...set.slice(i % set.length),
        ...set.slice(0, i % set.length),
      ]).flat(),
    ),
    ...scenarios.map(({ key }) => key).filter((key) => !TRIO.includes(key)),
  ]
  const pooled = Object.fromEntries(scenarios.map(({ key }) => [key, []]))
  // Each run of the three, by round: runs made one after the other are compared.
  const trio = Object.fromEntries(TRIO.map((key) => [key, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const key of TRIO) trio[key][round] = []
    for (const key of schedule) {
      const scenario = named[key]
      const { target } = scenario
      const options = await scenario.options(round)
      await target.counters?.()
      const [server, store] = [target.server(), target.store?.() ?? []]
      const [cpu, storeCpu] = [cpuOf(server), cpuOf(store)]
      const result = await load({ url: target.url, ...options })
      // The collector's background work on a run's garbage, counted with that run.
      if (scenario.per) await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
      const spent = { cpu: cpuOf(server) - cpu, store: cpuOf(store) - storeCpu }
      const used = (await target.counters?.()) ?? null
      scenario.after?.(result)
      const how = { per: scenario.per, store: store.length > 0 }
      pooled[key][round] = addRun(pooled[key][round], result, spent, used, how)
      const run = perRequest(addRun(undefined, result, spent, used, how))
      trio[key]?.[round].push(run)
      log(
        `${fmt((performance.now() - wallStart) / 1000)} s, round ${round + 1}/${ROUNDS}: ${key}: ${fmt(run.cpuUs)} µs CPU/req, ${fmt(run.rps)} req/s, ${run.errors} errors`,
      )
    }
  }
  const runs = Object.fromEntries(
    Object.entries(pooled).map(([key, rounds]) => [key, rounds.map(perRequest)]),
  )
  const setting = {
    rounds: ROUNDS,
    seconds: SECONDS,
    trioBursts: TRIO_BURSTS,
    coldBursts: COLD_BURSTS,
    burst: BURST,
    trioTimes: TRIO_TIMES,
    coldSessions: COLD_SESSIONS,
  }
  const text = report({ scenarios, runs, trio, bundle, nodeSkipped, nodeMemory, workerd, setting })
  console.log(text)
  const wallSeconds = (performance.now() - wallStart) / 1000
  const saved = saveResult({
    scenarios,
    runs,
    bundle,
    setting,
    text,
    load: loadAtStart,
    wallSeconds,
  })
  writeHistory()
  log(
    `wrote ${saved} (load average ${loadAtStart.join(', ')} at the start, ${loadNow().join(', ')} now) and the docs' history table`,
  )
} finally {
  await mf?.dispose()
  stopChildren()
  rmSync(work, { recursive: true, force: true })
  log(`bench: ${fmt((performance.now() - wallStart) / 1000)} s wall`)
}

/** Builds both bundles with wrangler (no network); the production bundle's size and largest inputs. */
function buildBundles() {
  // Without the banner wrangler does not ask npm for a newer version either: no network at all.
  const env = { ...quietEnv, WRANGLER_HIDE_BANNER: 'true' }
  const build = (args) =>
    execFileSync('wrangler', ['deploy', '--dry-run', ...args], { env, stdio: 'pipe' })
  const meta = join(work, 'production.meta.json')
  build(['--env', 'production', '--outdir', join(work, 'prod'), '--metafile', meta])
  build(['-c', 'bench/wrangler.toml', '--outdir', join(work, 'bench')])
  const code = readFileSync(join(work, 'prod', 'worker.js'))
  const { outputs } = JSON.parse(readFileSync(meta, 'utf8'))
  const output = Object.values(outputs).find((o) => o.entryPoint) ?? Object.values(outputs)[0]
  // Inputs by package (node_modules) or by folder of src/, in minified bytes of the output.
  const groups = new Map()
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1]
    const group =
      pkg ??
      path
        .split('/')
        .slice(0, path.startsWith('src/') ? 2 : 1)
        .join('/')
    groups.set(group, (groups.get(group) ?? 0) + bytesInOutput)
  }
  const largest = [...groups].sort((a, b) => b[1] - a[1]).slice(0, 8)
  return { bytes: code.length, gzipBytes: gzipSync(code).length, largest }
}

/**
 * Reads each token's session once at the edge, in the isolate without a
 * session cache (/cold), so that the session object writes its KV copy, as an
 * app's first read after a login does; resolves once KV has them all.
 */
async function readAtEdge(url, tokens) {
  await batched(tokens.length, (i) => call(`${url}/cold/me`, { method: 'GET', token: tokens[i] }))
  const sessions = new Set(tokens)
  for (let tries = 0; tries < 100; tries++) {
    const answers = await batched(tokens.length, (i) =>
      call(`${url}/bench/copy`, { method: 'GET', token: tokens[i] }),
    )
    for (const [i, { copied }] of answers.entries()) if (copied) sessions.delete(tokens[i])
    if (sessions.size === 0) return
    tokens = [...sessions]
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('the session objects did not write the KV copies the edge asked for')
}

/** A PNG of 4 KiB (a 1×1 image and a text chunk), as a file field of wx.uploadFile. */
function avatar() {
  const chunk = (type, data) => {
    const head = Buffer.alloc(4)
    head.writeUInt32BE(data.length)
    const sum = Buffer.alloc(4)
    sum.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type), data])))
    return Buffer.concat([head, Buffer.from(type), data, sum])
  }
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0])
  const pixel = deflateSync(Buffer.from([0, 255, 255, 255, 255])) // one scanline: filter, RGBA
  const png = Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', ihdr),
    chunk('tEXt', Buffer.from(`Comment\0${'bench '.repeat(660)}`)),
    chunk('IDAT', pixel),
    chunk('IEND', Buffer.alloc(0)),
  ])
  return {
    field: 'avatar',
    filename: 'avatar.png',
    type: 'image/png',
    base64: png.toString('base64'),
  }
}

/**
 * A round's runs of one scenario added up: requests (those the Worker served,
 * else those sent; for a burst, those dispatched in the isolate), CPU
 * seconds, and the counters.
 */
function addRun(sum, result, spent, used, { per, store }) {
  const add = (a = 0, b = 0) => a + b
  const counted = (a, b) =>
    b &&
    Object.fromEntries(
      Object.entries(b).map(([k, v]) => [
        k,
        typeof v === 'object' ? counted(a?.[k], v) : add(a?.[k], v),
      ]),
    )
  return {
    requests: add(sum?.requests, per ? result.requests * per : used?.requests || result.requests),
    cpu: add(sum?.cpu, spent.cpu),
    store: add(sum?.store, spent.store),
    errors: add(sum?.errors, result.errors),
    seconds: add(sum?.seconds, result.requests / (result.rps || 1)),
    used: counted(sum?.used, used),
    stored: store,
  }
}

/** A pooled round per request. */
function perRequest({ requests, cpu, store, errors, seconds, used, stored }) {
  const n = requests || 1
  return {
    requests,
    errors,
    rps: requests / (seconds || 1),
    cpuUs: (cpu * 1e6) / n,
    storeUs: stored ? (store * 1e6) / n : null,
    ...(used && {
      reads: used.kv.get / n,
      writes: used.kv.put / n,
      deletes: used.kv.delete / n,
      lists: used.kv.list / n,
      objectRequests: used.objectRequests / n,
      objectMs: used.objectActiveMs / n,
      rowsRead: used.rowsRead / n,
      rowsWritten: (used.rowsWritten + used.alarmsSet) / n,
      classA: used.r2.classA / n,
      classB: used.r2.classB / n,
      d1RowsRead: used.d1.rowsRead / n,
      d1RowsWritten: used.d1.rowsWritten / n,
    }),
  }
}
