// wxa-auth on Node + Redis in `npm run bench`, beside its Node peers, in the
// same rounds as the Workers scenarios: GET /me with a token seen before and
// with each token used once, for wxa-auth (examples/node/server.mjs), for
// fastify + @fastify/jwt + @fastify/redis (the best peer) and for express +
// jsonwebtoken + ioredis (the tutorial stack), all on one Redis; a login and
// a refresh; the Redis memory a user with one live session takes. From them,
// what one vCPU serves and the sizing table of the docs (goal 4 of issue 33).
import { randomBytes } from 'node:crypto'
import { decodeJwt, SignJWT } from 'jose'
import { createClient } from 'redis'
import { codes, fmt, load, loginAll, ranged, spread } from './drive.mjs'
import { startNodeServer } from './node-stack.mjs'
import { freePort, start } from './proc.mjs'

const NODE_COLD = Number(process.env.BENCH_NODE_COLD ?? 2500) // cold requests per server and round
const NODE_REFRESHES = Number(process.env.BENCH_NODE_REFRESHES ?? 300) // per round
const PEER_SESSIONS = 100 // sessions the peers' tokens name
const MEMORY_USERS = 200 // first logins whose Redis memory is weighed
const EXPRESS_RUN = 500 // express's runs: it costs ~8 × the others a request
const NUDGE = 200 // unmeasured requests before each run of /me
const WARM_UP = 1000 // cold requests per server before the rounds
const POOL = 32 // refresh tokens taken in turn: no two refreshes of one session at once

export const NODE_GOALS = {
  cold: 1.2, // /me with a token used once, × fastify's server CPU
  hot: 1.0, // /me with a token seen before, × fastify's
}

/**
 * The sizing table's assumptions, per daily active user (DAU). A login per
 * day is generous (a session lives 90 days; the SDK logs in again only
 * when it has none), so are 4 refreshes (a 2-hour access token, a few
 * visits a day); 100 authenticated requests a day; the busiest second
 * carries 5 times the day's mean rate; the sessions alive at once are those
 * of 5 × DAU (everyone who came in the last 90 days); a vCPU is planned at
 * 60 % busy; Redis memory is planned at 2 × its data (fragmentation, AOF
 * rewrite, headroom).
 */
export const SIZING = {
  loginsPerDau: 1,
  refreshesPerDau: 4,
  readsPerDau: 100,
  peak: 5,
  liveSessionsPerDau: 5,
  busy: 0.6,
  redisHeadroom: 2,
  dau: [10_000, 100_000, 1_000_000],
}

/** Distinct HS256 tokens of the given claims, `iat` a second earlier each lap over them. */
async function mint(secret, header, claimsList, n, now) {
  const key = new TextEncoder().encode(secret)
  const tokens = []
  for (let i = 0; i < n; i++) {
    const claims = claimsList[i % claimsList.length]
    const lap = Math.floor(i / claimsList.length) + 1
    tokens.push(
      await new SignJWT({ ...claims, iat: now - lap }).setProtectedHeader(header).sign(key),
    )
  }
  return tokens
}

/** A fastify or express peer (bench/peers/<name>.mjs): its URL and process. */
async function startPeer(name, env) {
  const port = await freePort()
  const child = await start(process.execPath, [`bench/peers/${name}.mjs`], {
    env: { ...env, PORT: String(port) },
    ready: /listening/,
  })
  return { url: `http://127.0.0.1:${port}`, pid: child.pid }
}

/** Redis's keys and the bytes MEMORY USAGE gives each. */
async function keysOf(client) {
  const keys = new Set()
  for await (const batch of client.scanIterator({ COUNT: 1000 })) {
    for (const key of Array.isArray(batch) ? batch : [batch]) keys.add(key)
  }
  return keys
}

/**
 * Starts wxa-auth's Node server and its peers on `redis`, logs users in,
 * weighs their Redis memory, and returns the Node scenarios for the rounds.
 */
export async function nodeScenarios({ redis, emu, appId, secrets, rounds }) {
  const users = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)
  const server = await startNodeServer({
    redisUrl: redis.url,
    emulatorUrl: emu,
    appId,
    secret: secrets.appSecret,
    jwtSecret: secrets.jwt,
    storageSecret: secrets.storage,
  })
  const client = createClient({ url: redis.url })
  await client.connect()
  try {
    // The Redis memory of a user with one live session: every key the first logins made.
    const before = await keysOf(client)
    const used = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1])
    const usedBefore = await used()
    await loginAll(server.url, emu, users('node-memory', MEMORY_USERS))
    const usedAfter = await used()
    let bytes = 0
    let made = 0
    for (const key of await keysOf(client)) {
      if (before.has(key)) continue
      made++
      bytes += Number(await client.memoryUsage(key)) || 0
    }
    const memory = {
      users: MEMORY_USERS,
      keysPerUser: made / MEMORY_USERS,
      bytesPerUser: bytes / MEMORY_USERS,
      usedPerUser: (usedAfter - usedBefore) / MEMORY_USERS,
    }

    const [hot] = await loginAll(server.url, emu, ['node-hot'])
    const known = await loginAll(server.url, emu, users('node-user', 100))
    let refreshing = await loginAll(server.url, emu, users('node-refresh', POOL), 'refreshToken')
    const { iss, aud } = decodeJwt(hot)
    const now = Math.floor(Date.now() / 1000)
    // Each server first gets WARM_UP tokens of its own: the rounds measure code the JIT compiled.
    const total = NODE_COLD * rounds + WARM_UP
    const own = known.map((token) => {
      const { iat, ...claims } = decodeJwt(token)
      return claims
    })
    const wxaCold = await mint(
      secrets.jwt,
      { alg: 'HS256', typ: 'JWT', kid: 'main' },
      own,
      total,
      now,
    )

    // The peers: the same secret, issuer and audience; their sessions under `peer:session:<sid>`.
    const env = {
      REDIS_URL: redis.url,
      JWT_SECRET: secrets.jwt,
      JWT_ISSUER: String(iss),
      JWT_AUDIENCE: String(aud),
    }
    const peers = {
      fastify: await startPeer('fastify', env),
      express: await startPeer('express', env),
    }
    const peerClaims = Array.from({ length: PEER_SESSIONS }, (_, i) => ({
      sub: `peer-user-${i}`,
      sid: randomBytes(32).toString('base64url'),
      exp: now + 3600,
      iss,
      aud,
    }))
    for (const { sub, sid } of peerClaims) {
      const record = { uid: sub, appId, openid: `o-${sub}`, createdAt: now, gen: 0, data: {} }
      await client.set(
        `peer:session:${sid}`,
        JSON.stringify({ ...record, expiresAt: now + 3600 }),
        {
          EX: 3600,
        },
      )
    }
    const peerHot = (await mint(secrets.jwt, { alg: 'HS256', typ: 'JWT' }, peerClaims, 1, now))[0]
    const peerCold = Object.fromEntries(
      await Promise.all(
        Object.keys(peers).map(async (name) => [
          name,
          await mint(secrets.jwt, { alg: 'HS256', typ: 'JWT' }, peerClaims, total, now - 1000),
        ]),
      ),
    )

    const taken = { wxa: 0, fastify: 0, express: 0 }
    const fresh = (name, all) => (n) => {
      taken[name] += n
      return all.slice(taken[name] - n, taken[name])
    }
    // Hot and cold alike by count, through the same path of the load generator. Each
    // server's first run of a round comes after a few unmeasured requests: a server idle
    // while the others ran pays for its garbage collection and recompilation in its next
    // requests, which that run would otherwise carry alone.
    const nudge = (url, token, scheme) =>
      load({ url, path: '/me', tokens: [token], amount: NUDGE, scheme })
    const floor = (url, token, scheme) => async () => {
      await nudge(url, token, scheme)
      return { path: '/healthz', amount: NODE_COLD }
    }
    const hotRun =
      (url, token, scheme, amount = NODE_COLD, first = false) =>
      async () => {
        if (first) await nudge(url, token, scheme)
        return { path: '/me', tokens: [token], amount, scheme }
      }
    const cold =
      (tokens, scheme, amount = NODE_COLD) =>
      () => ({ path: '/me', tokens: tokens(amount), amount, scheme })
    const node = { url: server.url, server: () => [server.pid], store: () => [redis.pid] }
    const warm = async (url, token, tokens, scheme) => {
      await load({ url, path: '/me', tokens: [token], amount: WARM_UP, scheme })
      await load({ url, path: '/me', tokens, amount: WARM_UP, scheme })
    }
    taken.wxa = taken.fastify = taken.express = WARM_UP
    await warm(server.url, hot, wxaCold.slice(0, WARM_UP), 'JWT')
    for (const name of Object.keys(peers)) {
      await warm(peers[name].url, peerHot, peerCold[name].slice(0, WARM_UP), 'Bearer')
    }
    const peer = (name) => ({
      url: peers[name].url,
      server: () => [peers[name].pid],
      store: () => [redis.pid],
    })
    const scenarios = [
      {
        key: 'node-floor',
        name: 'GET /healthz (floor)',
        target: node,
        options: floor(server.url, hot, 'JWT'),
      },
      {
        key: 'node-me',
        name: 'GET /me, token seen before',
        target: node,
        options: hotRun(server.url, hot, 'JWT'),
      },
      {
        key: 'node-cold',
        name: 'GET /me, each token used once',
        target: node,
        options: cold(fresh('wxa', wxaCold), 'JWT'),
      },
      {
        key: 'node-fastify-floor',
        name: 'fastify: GET /healthz (floor)',
        target: peer('fastify'),
        options: floor(peers.fastify.url, peerHot, 'Bearer'),
      },
      {
        key: 'node-fastify-hot',
        name: 'fastify: GET /me, token seen before',
        target: peer('fastify'),
        options: hotRun(peers.fastify.url, peerHot, 'Bearer'),
      },
      {
        key: 'node-fastify-cold',
        name: 'fastify: GET /me, each token used once',
        target: peer('fastify'),
        options: cold(fresh('fastify', peerCold.fastify), 'Bearer'),
      },
      {
        key: 'node-express-hot',
        name: 'express: GET /me, token seen before',
        target: peer('express'),
        options: hotRun(peers.express.url, peerHot, 'Bearer', EXPRESS_RUN, true),
      },
      {
        key: 'node-express-cold',
        name: 'express: GET /me, each token used once',
        target: peer('express'),
        options: cold(fresh('express', peerCold.express), 'Bearer', EXPRESS_RUN),
      },
      {
        key: 'node-login',
        name: 'POST /auth/login, returning, new session_key',
        target: node,
        options: async () => ({
          method: 'POST',
          path: '/auth/login',
          codes: await codes(emu, users('node-user', 100), { rotateSessionKey: true }),
          amount: 100,
        }),
      },
      {
        key: 'node-refresh',
        name: 'POST /auth/refresh',
        target: node,
        options: () => ({
          method: 'POST',
          path: '/auth/refresh',
          tokens: refreshing,
          chain: true,
          amount: NODE_REFRESHES,
        }),
        after: (result) => {
          refreshing = result.tokens
        },
      },
    ]
    return { scenarios, memory }
  } finally {
    await client.quit()
  }
}

/**
 * The median and spread over the rounds of a scenario's server CPU against
 * the least of the peer's scenarios in the same round (the peer at its best).
 */
const ratioOf = (runs, key, peers) => {
  const a = runs[key].map((run) => run.cpuUs)
  const b = a.map((_, r) => Math.min(...peers.map((peer) => runs[peer][r].cpuUs)))
  return {
    ...spread(a.map((x, r) => x / b[r])),
    median: spread(a).median / spread(b).median,
  }
}

/** What one busy vCPU does per second at `us` CPU µs a request. */
const perVcpu = (us) => 1e6 / us

/**
 * The vCPUs and the Redis memory for `dau` daily active users, from the
 * measured CPU per request and bytes per session, with the arithmetic.
 */
export function sizingRow(dau, { loginUs, refreshUs, readUs, redis, bytesPerUser }) {
  const s = SIZING
  const rate = (perDau) => (dau * perDau * s.peak) / 86_400 // at peak, per second
  const demand = (login, refresh, read) =>
    (rate(s.loginsPerDau) * login +
      rate(s.refreshesPerDau) * refresh +
      rate(s.readsPerDau) * read) /
    1e6
  const server = demand(loginUs, refreshUs, readUs)
  const store = demand(redis.loginUs, redis.refreshUs, redis.readUs)
  const memory = dau * s.liveSessionsPerDau * bytesPerUser * s.redisHeadroom
  return {
    dau,
    rates: {
      logins: rate(s.loginsPerDau),
      refreshes: rate(s.refreshesPerDau),
      reads: rate(s.readsPerDau),
    },
    server,
    store,
    vcpus: server / s.busy,
    redisVcpus: store / s.busy,
    memory,
  }
}

/** The Node section of the report: the table, the goals on Node, the sizing. */
export function nodeReport({ runs, named, memory }) {
  const of = (key, field = 'cpuUs') => spread(runs[key].map((run) => run[field]))
  const median = (key, field) => of(key, field).median
  const keys = [
    'node-floor',
    'node-fastify-floor',
    'node-me',
    'node-cold',
    'node-fastify-hot',
    'node-fastify-cold',
    'node-express-hot',
    'node-express-cold',
    'node-login',
    'node-refresh',
  ]
  const errors = (key) => runs[key].reduce((sum, run) => sum + run.errors, 0)
  const lines = [
    'Node + Redis (one server process each; one Redis, its CPU apart), in the same rounds: wxa-auth (examples/node/server.mjs) beside fastify + @fastify/jwt + @fastify/redis and express + jsonwebtoken + ioredis (bench/peers/), each verifying an HS256 token (issuer and audience checked) and reading its session with one Redis GET. "Each token used once": every request carries a token no request carried before.',
    '',
    '| scenario | server CPU µs/request | Redis CPU µs/request | req/s | per vCPU/s (server) | per vCPU/s (Redis) | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...keys.map(
      (key) =>
        `| ${named[key].name} | ${ranged(of(key))} | ${fmt(median(key, 'storeUs'), 1)} | ${fmt(median(key, 'rps'))} | ${fmt(perVcpu(median(key)))} | ${fmt(perVcpu(median(key, 'storeUs')))} | ${errors(key)} |`,
    ),
    '',
  ]
  const cold = ratioOf(runs, 'node-cold', ['node-fastify-cold'])
  // fastify's run with one token often costs more than its run with fresh ones: the least of the two.
  const hot = ratioOf(runs, 'node-me', ['node-fastify-hot', 'node-fastify-cold'])
  const fastifyBest = spread(
    runs['node-me'].map((_, r) =>
      Math.min(runs['node-fastify-hot'][r].cpuUs, runs['node-fastify-cold'][r].cpuUs),
    ),
  ).median
  const settled = ({ min, max }, limit) =>
    min <= limit && limit <= max
      ? ' (its rounds fall on both sides of the goal: not settled here)'
      : ''
  const goal = (met, text, cause) => `- ${met ? 'pass' : 'miss'}: ${text}${met ? '' : `. ${cause}`}`
  const goals = [
    goal(
      cold.median <= NODE_GOALS.cold,
      `Node /me with each token used once is ${ranged(cold, 2)} × fastify's server CPU (${fmt(median('node-cold'))} µs against ${fmt(median('node-fastify-cold'))}; express ${fmt(median('node-express-cold'))}; goal ≤ ${NODE_GOALS.cold})${settled(cold, NODE_GOALS.cold)}`,
      `${fmt(median('node-cold') - median('node-me'))} µs more than a token seen before (the token's HMAC and claims, node:crypto, and its entry in the verified-token cache); the rest is the floor: wxa-auth's /healthz costs ${fmt(median('node-floor'))} µs (Hono on @hono/node-server and wxa-auth's middleware), fastify's ${fmt(median('node-fastify-floor'))}`,
    ),
    goal(
      hot.median <= NODE_GOALS.hot,
      `Node /me with a token seen before is ${ranged(hot, 2)} × fastify's server CPU at its best (${fmt(median('node-me'))} µs against ${fmt(fastifyBest)}, the least of its two runs each round; express ${fmt(median('node-express-hot'))}; goal ≤ ${NODE_GOALS.hot})${settled(hot, NODE_GOALS.hot)}`,
      `${fmt(median('node-me') - median('node-floor'))} µs above wxa-auth's own /healthz (${fmt(median('node-floor'))} µs), fastify's /me ${fmt(fastifyBest - median('node-fastify-floor'))} µs above its /healthz (${fmt(median('node-fastify-floor'))} µs)`,
    ),
  ]
  const figures = {
    loginUs: median('node-login'),
    refreshUs: median('node-refresh'),
    // Reads at a cold token's cost: every token is new to each process once (conservative).
    readUs: Math.max(median('node-me'), median('node-cold')),
    redis: {
      loginUs: median('node-login', 'storeUs'),
      refreshUs: median('node-refresh', 'storeUs'),
      readUs: Math.max(median('node-me', 'storeUs'), median('node-cold', 'storeUs')),
    },
    bytesPerUser: memory.bytesPerUser,
  }
  const measured =
    Number.isFinite(figures.loginUs) && Number.isFinite(figures.readUs) && memory.bytesPerUser > 0
  goals.push(
    goal(
      measured,
      `sizing per vCPU (Node + Redis): ${fmt(perVcpu(figures.loginUs))} logins/s, ${fmt(perVcpu(figures.refreshUs))} refreshes/s, ${fmt(perVcpu(median('node-me')))} authenticated reads/s with a token seen before, ${fmt(perVcpu(median('node-cold')))} with each token used once, per busy vCPU of the server; Redis: ${fmt(perVcpu(figures.redis.loginUs))} logins/s, ${fmt(perVcpu(figures.redis.refreshUs))} refreshes/s, ${fmt(perVcpu(figures.redis.readUs))} reads/s per busy vCPU (one Redis uses one core); ${fmt(memory.bytesPerUser)} bytes of Redis (MEMORY USAGE; used_memory grew ${fmt(memory.usedPerUser)}) per user with one live session, ${fmt(memory.keysPerUser, 1)} keys`,
      'a figure is missing',
    ),
  )
  const s = SIZING
  const rows = s.dau.map((dau) => sizingRow(dau, figures))
  const mib = (bytes) => fmt(bytes / 2 ** 20, 0)
  const cpu = (r, f) =>
    `${fmt(r.rates.logins, 2)} × ${fmt(f.loginUs)} + ${fmt(r.rates.refreshes, 2)} × ${fmt(f.refreshUs)} + ${fmt(r.rates.reads, 1)} × ${fmt(f.readUs)} µs`
  lines.push(
    `Sizing, from the medians above (assumptions per DAU: ${s.loginsPerDau} login, ${s.refreshesPerDau} refreshes and ${s.readsPerDau} authenticated reads a day; the peak second at ${s.peak} × the day's mean rate; ${s.liveSessionsPerDau} live sessions per DAU; vCPUs planned at ${s.busy * 100} % busy; Redis memory at ${s.redisHeadroom} × its data; reads at the dearer of a token seen before and a token used once). Peak rate = DAU × per DAU × ${s.peak} / 86,400 s; CPU = Σ rate × µs per request; vCPUs = CPU / ${s.busy}; memory = DAU × ${s.liveSessionsPerDau} × ${fmt(figures.bytesPerUser)} B × ${s.redisHeadroom}:`,
    '',
    '| DAU | peak logins/s, refreshes/s, reads/s | server CPU at peak (rate × µs) | server vCPUs | Redis CPU at peak | Redis vCPUs | Redis memory |',
    '| ---: | --- | --- | ---: | --- | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${fmt(r.dau)} | ${fmt(r.rates.logins, 2)}, ${fmt(r.rates.refreshes, 2)}, ${fmt(r.rates.reads, 1)} | ${cpu(r, figures)} = ${fmt(r.server, 3)} s/s | ${fmt(r.vcpus, 2)} | ${cpu(r, figures.redis)} = ${fmt(r.store, 4)} s/s | ${fmt(r.redisVcpus, 3)} | ${mib(r.memory)} MiB |`,
    ),
    '',
  )
  return { lines, goals, figures }
}
