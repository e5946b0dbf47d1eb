// The tables and the goals of `npm run bench`, as markdown, from its runs:
// per scenario, one figure per round (per request), summed up as the median
// and the spread (min–max) over the rounds.
import { cpus } from 'node:os'
import { fmt, ranged, spread } from './drive.mjs'
import { nodeReport } from './node-peers.mjs'
import { costPerMillion, PRICES, PRICES_DATE } from './prices.mjs'

export const GOALS = {
  readCost: 0.4, // $ per million authenticated reads (edge, hot isolate)
  loginCost: 5, // $ per million logins of a returning user
  firstLoginCost: 10, // $ per million first logins
  hotAuth: 0.5, // /me auth CPU with a hot token, × hono/jwt's
  coldAuth: 1.2, // with a cold token
  gzipKiB: 85, // the production bundle, gzip (GZIP_BUDGET in scripts/build.mjs)
}

const dollars = (n) => `$${fmt(n, 2)}`
const kib = (bytes) => fmt(bytes / 1024, 1)
const goal = (met, text, cause) => `- ${met ? 'pass' : 'miss'}: ${text}${met ? '' : `. ${cause}`}`
/** Said of a ratio whose rounds fall on both sides of its goal. */
const straddles = ({ min, max }, limit) =>
  min <= limit && limit <= max
    ? ' (its rounds fall on both sides of the goal: not settled here)'
    : ''

/** The whole report. */
export function report({
  scenarios,
  runs,
  trio,
  bundle,
  nodeSkipped,
  nodeMemory,
  workerd,
  setting,
}) {
  const of = (key, field = 'cpuUs') => spread(runs[key].map((run) => run[field]))
  const median = (key, field) => of(key, field).median
  const named = Object.fromEntries(scenarios.map((s) => [s.key, s]))
  const http = scenarios.filter((s) => !s.key.startsWith('node-') && !s.per)
  const isolate = scenarios.filter((s) => s.per)
  const priced = http.filter(({ key }) => !['floor', 'peer'].includes(key))
  const errors = (key) => runs[key].reduce((sum, run) => sum + run.errors, 0)
  // The three in the isolate: each run against the floor's run of the same turn, medians of
  // all turns; the spread is that of each round's median.
  const floorOf = (key) => (key.startsWith('b-cold-') ? 'b-cold-floor' : 'b-floor')
  const turns = (key) =>
    trio[key].map((runs, r) => runs.map((run, i) => run.cpuUs - trio[floorOf(key)][r][i].cpuUs))
  const overRounds = (perRound, all) => ({ ...spread(perRound), median: spread(all).median })
  const trioAbove = (key) =>
    overRounds(
      turns(key).map((d) => spread(d).median),
      turns(key).flat(),
    )
  const floorAt = (r) => spread(trio['b-floor'][r].map((run) => run.cpuUs)).median
  const isolateAbove = (key) =>
    trio[key] ? trioAbove(key) : spread(runs[key].map((run, r) => run.cpuUs - floorAt(r)))
  const costs = (key) => runs[key].map((run) => costPerMillion({ ...run, cpuMs: run.cpuUs / 1000 }))
  const cost = (key, part = 'total') => spread(costs(key).map((c) => c[part]))

  const lines = [
    `wxa-auth bench, ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, workerd via Miniflare (${workerd.length} process), autocannon with 16 connections from a separate process; ${setting.rounds} interleaved rounds, ${setting.seconds} s per timed run; median (min–max) over the rounds.`,
    '',
    "CPU per request: utime + stime of workerd (the Worker, its session objects, and Miniflare's simulators of KV, R2 and object storage), divided by the requests it served.",
    '',
    '| scenario | CPU µs/request | req/s | errors |',
    '| --- | ---: | ---: | ---: |',
    ...http.map(
      ({ key, name }) =>
        `| ${name} | ${ranged(of(key))} | ${fmt(median(key, 'rps'))} | ${errors(key)} |`,
    ),
    '',
    `The same, dispatched in the isolate ${setting.burst} to an HTTP request (HTTP and Miniflare's entry paid once a burst), for the goals below; the floor, the hot token and the stateless peer run ${setting.trioTimes} times a round, ${setting.trioBursts} bursts each, and then a cold token read from memory, the stateful peer and a floor of their own, ${setting.coldBursts} bursts each, one after the other in turned orders, and each of their runs is set against the floor's run of its turn (median of all turns; in brackets, the least and the greatest of the rounds' medians). A cold token is carried by one request only (verified afresh), the session cache is off, and its session is one of ${fmt(setting.coldSessions)} in turn, more than the 1,000 opened records an isolate keeps: one KV read and one unseal each time.`,
    '',
    '| in the isolate | CPU µs/request | above the floor, µs | errors |',
    '| --- | ---: | ---: | ---: |',
    ...isolate.map(
      ({ key, name }) =>
        `| ${name} | ${ranged(of(key))} | ${floorOf(key) === key ? '–' : ranged(isolateAbove(key))} | ${errors(key)} |`,
    ),
    '',
    "Per request, from the bench Worker's counters (the objects' own KV, SQL and R2 calls included; rows written include each setAlarm(), billed as one):",
    '',
    '| scenario | KV reads | KV writes | KV deletes | KV lists | object requests | object ms | rows read | rows written | R2 class A | R2 class B | D1 rows read | D1 rows written |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...http.map(({ key, name }) => {
      const cells = [
        ...['reads', 'writes', 'deletes', 'lists', 'objectRequests', 'objectMs'].map((field) =>
          fmt(median(key, field), 2),
        ),
        ...['rowsRead', 'rowsWritten'].map((field) => fmt(median(key, field), 1)),
        ...['classA', 'classB'].map((field) => fmt(median(key, field), 2)),
        ...['d1RowsRead', 'd1RowsWritten'].map((field) => fmt(median(key, field), 1)),
      ]
      return `| ${name} | ${cells.join(' | ')} |`
    }),
    '',
    `Dollars per million requests at Cloudflare's list prices of ${PRICES_DATE} (bench/prices.mjs), beyond what the Workers Paid plan includes; the CPU is all of workerd's, an upper bound:`,
    '',
    '| scenario | requests | CPU | KV | objects | R2 | D1 | total $/M |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...priced.map(({ key, name }) => {
      const parts = ['requests', 'cpu', 'kv', 'objects', 'r2', 'd1'].map((part) =>
        fmt(cost(key, part).median, part === 'cpu' ? 3 : 2),
      )
      return `| ${name} | ${parts.join(' | ')} | ${ranged(cost(key), 2)} |`
    }),
    '',
  ]

  // Node + Redis and its peers: bench/node-peers.mjs.
  const node = nodeSkipped ? null : nodeReport({ runs, named, memory: nodeMemory })
  if (node) lines.push(...node.lines)
  else lines.push(`Node + Redis: skipped (${nodeSkipped}).`, '')

  const peerAuth = trioAbove('b-peer')
  const peerAt = (r) => spread(turns('b-peer')[r]).median
  const hotAuth = overRounds(
    turns('b-hot').map((d, r) => spread(d).median / peerAt(r)),
    [trioAbove('b-hot').median / peerAuth.median],
  )
  // A cold token in each turn against the floor of its turn, set against a peer's of the same round.
  const ratioTo = (key, peerKey) =>
    overRounds(
      turns(key).map((d, r) => spread(d).median / spread(turns(peerKey)[r]).median),
      [trioAbove(key).median / trioAbove(peerKey).median],
    )
  // The goal: against the stateful peer (hono/jwt and one KV read), both records from memory.
  const coldOwn = ratioTo('b-cold-own', 'b-cold-peer')
  const coldStateless = ratioTo('b-cold-own', 'b-peer')
  // With Miniflare's KV simulator, once a round, whose work production does not bill.
  const coldAuth = overRounds(
    runs['b-cold'].map((run, r) => (run.cpuUs - floorAt(r)) / peerAt(r)),
    [isolateAbove('b-cold').median / peerAuth.median],
  )
  const read = cost('hot')
  lines.push(
    'Goals:',
    goal(
      read.median <= GOALS.readCost,
      `an authenticated read (edge, hot isolate) costs ${ranged(read, 2)} $/M (goal ≤ ${dollars(GOALS.readCost)})`,
      `the request price alone is ${dollars(PRICES.workers.requests)}`,
    ),
    ...loginGoals({ named, cost, median }),
    goal(
      hotAuth.median <= GOALS.hotAuth,
      `/me auth CPU with a hot token (/me − /healthz in the isolate) is ${ranged(hotAuth, 2)} × hono/jwt's (${fmt(trioAbove('b-hot').median)} µs against its ${ranged(peerAuth)} µs; goal ≤ ${GOALS.hotAuth})${straddles(hotAuth, GOALS.hotAuth)}`,
      `${fmt(trioAbove('b-hot').median)} µs above the floor`,
    ),
    goal(
      coldOwn.median <= GOALS.coldAuth,
      `/me auth CPU with a cold token is ${ranged(coldOwn, 2)} × the stateful peer's, hono/jwt and one KV read of the session, both records read from memory (${fmt(trioAbove('b-cold-own').median)} µs above the floor against its ${fmt(trioAbove('b-cold-peer').median)}; goal ≤ ${GOALS.coldAuth})${straddles(coldOwn, GOALS.coldAuth)}; ${ranged(coldStateless, 2)} × stateless hono/jwt's (${fmt(peerAuth.median)} µs), ${ranged(coldAuth, 2)} × with Miniflare's KV simulator in the same process`,
      `a cold token is verified like the peer's, and then its session id is hashed (SHA-256) and its sealed record opened (AES-256-GCM) and parsed, where the peer parses a plain record`,
    ),
    goal(
      bundle.gzipBytes <= GOALS.gzipKiB * 1024,
      `the production bundle is ${kib(bundle.bytes)} KiB, ${kib(bundle.gzipBytes)} KiB gzip (goal ≤ ${GOALS.gzipKiB}); its largest inputs, minified KiB: ${bundle.largest.map(([name, bytes]) => `${name} ${kib(bytes)}`).join(', ')}`,
      `${kib(bundle.gzipBytes - GOALS.gzipKiB * 1024)} KiB gzip over`,
    ),
    ...(node ? node.goals : [`- skipped: Node + Redis (${nodeSkipped})`]),
  )
  return lines.join('\n')
}

/**
 * Goal 3: a returning user's login (with a new session_key and with the same)
 * at most GOALS.loginCost per million at list price, a first login at most
 * GOALS.firstLoginCost; a miss names what the bill is made of.
 */
function loginGoals({ named, cost, median }) {
  const { kv, durableObjects: objects, d1 } = PRICES
  return ['first', 'returning', 'same'].map((key) => {
    const limit = key === 'first' ? GOALS.firstLoginCost : GOALS.loginCost
    const [reads, writes, lists, rows, requests, d1Rows] = [
      'reads',
      'writes',
      'lists',
      'rowsWritten',
      'objectRequests',
      'd1RowsWritten',
    ].map((field) => median(key, field))
    const kvParts = [
      writes && `${fmt(writes, 2)} writes at ${dollars(kv.writes)}`,
      lists && `${fmt(lists, 2)} lists at ${dollars(kv.lists)}`,
      reads && `${fmt(reads, 2)} reads at ${dollars(kv.reads)}`,
    ].filter(Boolean)
    const why =
      key === 'first' && writes >= 1 && lists >= 1
        ? ": a first login writes the user's identity to KV and lists the user's KV sessions once (the adoption of 0.1's), two KV operations at $5.00 per million each"
        : ''
    return goal(
      cost(key).median <= limit,
      `${named[key].name}: ${ranged(cost(key), 2)} $/M (goal ≤ ${dollars(limit)}); ${fmt(writes, 2)} KV writes, ${fmt(rows, 1)} rows written by the object and ${fmt(d1Rows, 1)} in D1 per login`,
      `KV ${dollars(cost(key, 'kv').median)} (${kvParts.join(', ') || 'none'})${why}; the user's object ${dollars(cost(key, 'objects').median)} (${fmt(rows, 1)} rows written at ${dollars(objects.rowsWritten)}, each setAlarm() one; ${fmt(requests, 2)} requests at ${dollars(objects.requests)}); D1 ${dollars(cost(key, 'd1').median)} (${fmt(d1Rows, 1)} rows written at ${dollars(d1.rowsWritten)}, index entries included: the directory and the audit log); the Worker ${dollars(cost(key, 'requests').median + cost(key, 'cpu').median)}`,
    )
  })
}
