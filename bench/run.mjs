// `npm run bench`: the deployable Worker on workerd through Miniflare's API
// (not behind wrangler dev's proxy), with the WeChat emulator, loaded from a
// separate process. Prints one markdown table measured in one run.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { Miniflare } from 'miniflare'
import { quietEnv } from '../scripts/wrangler.mjs'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4) // per scenario and round
const LOGINS = Number(process.env.BENCH_LOGINS ?? 1500) // per round

const out = mkdtempSync(join(tmpdir(), 'wxa-bench-'))
const build = (args) =>
  execFileSync('wrangler', ['deploy', '--dry-run', ...args], { env: quietEnv, stdio: 'pipe' })

console.error('building the production bundle and the bench Worker…')
build(['--env', 'production', '--outdir', join(out, 'prod')])
build(['-c', 'bench/wrangler.toml', '--outdir', join(out, 'bench')])
const bundle = readFileSync(join(out, 'prod', 'index.js'))
const gzipKiB = gzipSync(bundle).length / 1024

const mf = new Miniflare({
  modules: [
    {
      type: 'ESModule',
      path: 'worker.js',
      contents: readFileSync(join(out, 'bench', 'worker.js'), 'utf8'),
    },
  ],
  compatibilityDate: '2026-07-30',
  kvNamespaces: ['SESSIONS'],
  durableObjects: {
    WECHAT_EMULATOR: { className: 'WeChatEmulator', useSQLite: true },
    USER_SESSIONS: { className: 'BenchUserSessions', useSQLite: true },
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
  const post = async (path, body, token) => {
    const res = await fetch(url + path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `JWT ${token}` } : {}),
      },
      body: JSON.stringify(body),
    })
    return res.json()
  }
  const counters = async () => (await fetch(`${url}/bench/counters`)).json()
  const codes = async (n, round) => {
    const all = []
    for (let i = 0; i < n; i += 50) {
      const batch = Array.from({ length: Math.min(50, n - i) }, (_, j) =>
        post('/__emulator/code', { openid: `bench-${round}-${(i + j) % 60}` }).then((r) => r.code),
      )
      all.push(...(await Promise.all(batch)))
    }
    return all
  }
  const { token } = await post('/auth/login', { code: (await codes(1, 'setup'))[0] })
  if (!token) throw new Error('bench login failed')

  const load = (options) =>
    JSON.parse(
      execFileSync(process.execPath, ['bench/load.mjs', JSON.stringify({ url, ...options })], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      }),
    )

  const scenarios = {
    'GET /healthz (floor)': { path: '/healthz' },
    'GET /me (verify + session)': { path: '/me', token },
    'GET /me, session cache off (verify + KV read)': { path: '/nocache/me', token },
    'GET /me, strict mode (verify + object call)': { path: '/strict/me', token },
    'GET /me behind hono/jwt (stateless peer)': {
      path: '/bench/stateless-me',
      token,
      scheme: 'Bearer',
    },
    'PATCH /me/session (a session write)': {
      method: 'PATCH',
      path: '/me/session',
      token,
      vary: 'n',
    },
    'POST /auth/login (emulator)': { method: 'POST', path: '/auth/login', login: true },
  }
  const runs = Object.fromEntries(Object.keys(scenarios).map((name) => [name, []]))
  load({ path: '/me', token, duration: 2 }) // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, { login, ...options }] of Object.entries(scenarios)) {
      const extra = login
        ? { codes: await codes(LOGINS, round), amount: LOGINS }
        : { duration: SECONDS }
      await counters()
      const result = load({ ...options, ...extra })
      const kv = await counters()
      runs[name].push({
        ...result,
        reads: kv.get / result.requests,
        writes: (kv.put + kv.delete) / result.requests,
        lists: kv.list / result.requests,
        objects: kv.objects / result.requests,
      })
      console.error(
        `round ${round + 1}: ${name}: ${Math.round(result.rps)} req/s, ${result.errors} errors`,
      )
    }
  }

  // In-isolate micro-benchmarks, timed from here around one request each.
  const micro = {}
  for (const [op, n] of [
    ['verify', 2000],
    ['load', 1000],
    ['save', 300],
    ['decrypt', 2000],
  ]) {
    const times = []
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now()
      const res = await fetch(`${url}/bench/micro/${op}?n=${n}`, {
        method: 'POST',
        body: JSON.stringify({ token }),
      })
      if (!res.ok) throw new Error(`micro ${op}: ${res.status} ${await res.text()}`)
      times.push((performance.now() - started) / n)
    }
    micro[op] = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]
  }

  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
  const row = (name) => {
    const r = runs[name]
    return {
      rps: median(r.map((x) => x.rps)),
      p50: median(r.map((x) => x.p50)),
      p99: median(r.map((x) => x.p99)),
      reads: median(r.map((x) => x.reads)),
      writes: median(r.map((x) => x.writes)),
      lists: median(r.map((x) => x.lists)),
      objects: median(r.map((x) => x.objects)),
      errors: r.reduce((sum, x) => sum + x.errors, 0),
    }
  }
  const rows = Object.fromEntries(Object.keys(scenarios).map((name) => [name, row(name)]))
  const fmt = (n, digits = 0) =>
    n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
  const lines = [
    `wxa-auth bench, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, workerd via Miniflare, autocannon 16 connections, median of ${ROUNDS} rounds`,
    '',
    '| scenario | req/s | p50 ms | p99 ms | KV reads/req | KV writes/req | KV lists/req | object calls/req | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...Object.entries(rows).map(
      ([name, r]) =>
        `| ${name} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.reads, 2)} | ${fmt(r.writes, 2)} | ${fmt(r.lists, 2)} | ${fmt(r.objects, 2)} | ${r.errors} |`,
    ),
    '',
  ]
  const me = rows['GET /me (verify + session)']
  const floor = rows['GET /healthz (floor)']
  const peer = rows['GET /me behind hono/jwt (stateless peer)']
  lines.push(
    `- /me : /healthz = ${fmt(me.rps / floor.rps, 2)} (goal ≥ 0.90)`,
    `- /me : hono/jwt = ${fmt(me.rps / peer.rps, 2)} (goal ≥ 0.95)`,
    `- /me p99 : p50 = ${fmt(me.p99 / me.p50, 2)} (goal ≤ 1.5)`,
    `- deployable bundle: ${fmt(bundle.length / 1024, 1)} KiB, ${fmt(gzipKiB, 1)} KiB gzip (goal ≤ 60)`,
    '',
    '| in-isolate, per operation | µs | ops/s |',
    '|---|---:|---:|',
    ...[
      ['token verify (HS256, uncached)', 'verify'],
      ['session load (KV read, record opened before)', 'load'],
      ['session write (object call: rule + AES-GCM seal + KV write)', 'save'],
      ['decryptData (AES-128-CBC, WeChat user info)', 'decrypt'],
    ].map(([label, op]) => `| ${label} | ${fmt(micro[op] * 1000)} | ${fmt(1000 / micro[op])} |`),
  )
  console.log(lines.join('\n'))
} finally {
  await mf.dispose()
  rmSync(out, { recursive: true, force: true })
}
