// The chaos run, on two clusters: a seeded random workload over three edge
// isolates and one strict isolate of the bundled Worker that share KV and the
// session objects (persisted on disk), and over three Node processes of the
// built server sharing one Redis (AOF, appendfsync always); each SIGKILLed
// halfway with requests in flight (workerd; the Node processes and
// redis-server) and started again on the same state; then the checker over
// everything the servers acknowledged. `CHAOS_SEED=<n>` replays a seed's
// choices (timing still varies); `CHAOS_CLUSTER=miniflare|redis` runs one
// cluster only; `CHAOS_BREAK=cache|persistence` breaks the cluster on
// purpose, to show that the checker notices (cache: Miniflare only);
// `CHAOS_FSYNC=everysec` runs Redis with its default fsync policy (a SIGKILL
// of Redis alone loses nothing either: the kernel holds what it wrote);
// `CHAOS_GRACE=<s>` is the refresh grace the checker assumes (0 = none, as
// 0.2); `CHAOS_HISTORY=<file>` writes the history (one per cluster). An
// operator bans and unbans busy users through the admin API (`ADMIN_KEYS`).
// Behind Sentinel the crash is a failover instead (`sentinel-failover`: the
// primary SIGKILLed; `sentinel-partition`: its replica cut off first), with
// `REDIS_WAIT_REPLICAS=1`; `CHAOS_WAIT=0` runs them without WAIT, which the
// partition run shows losing what it acknowledged.
import { randomBytes, randomInt } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { expect, it } from 'vitest'
import { type CheckName, check, inFlightAtCrash } from './checker'
import type { Cluster } from './cluster'
import { acked, codeOf } from './history'
import { startMiniflareCluster } from './miniflare-cluster'
import { childProcesses } from './processes'
import { startRedisCluster } from './redis-cluster'
import { startSentinelCluster } from './sentinel-cluster'
import { runWorkload } from './workload'

const MAX_SESSIONS = 3
const CACHE_SECONDS = 5 // what the checker assumes, and the servers run with unless broken
const OPERATIONS = 1500
const SENTINEL_OPERATIONS = 600 // the failover, not the workload, is what those runs are for
/** The 503 codes that say a storage call failed and its outcome is unknown. */
const UNKNOWN_OUTCOME_CODES = ['STORAGE_UNAVAILABLE', 'STORAGE_OUTCOME_UNKNOWN']

const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : randomInt(2 ** 31)
const broken = process.env.CHAOS_BREAK ?? ''
if (!['', 'cache', 'persistence'].includes(broken)) {
  throw new Error(`CHAOS_BREAK is cache or persistence, not ${broken}`)
}
const graceSeconds = Number(process.env.CHAOS_GRACE ?? 30)
const only = process.env.CHAOS_CLUSTER ?? ''
const NAMES = ['miniflare', 'redis', 'sentinel-failover', 'sentinel-partition'] as const
if (only !== '' && !(NAMES as readonly string[]).includes(only)) {
  throw new Error(`CHAOS_CLUSTER is one of ${NAMES.join(', ')}, not ${only}`)
}
const waitReplicas = process.env.CHAOS_WAIT ?? '1'

// WeChat's other doors beside the mini program: an Official Account page and
// an App, with IDENTITY=unionid so that every door of a user is one user (the
// cap counts them all). Each server's AppSecrets, shared with the Node emulator.
const DOORS = {
  oa: 'wx00000000chaosoa1',
  mobile: 'wx0000000chaosapp1',
  redirectUri: 'https://chaos.example.com/back',
}
const DOOR_VARS = {
  IDENTITY: 'unionid',
  WECHAT_OA_APP_ID: DOORS.oa,
  WECHAT_MOBILE_APP_ID: DOORS.mobile,
  WECHAT_REDIRECT_URIS: DOORS.redirectUri,
}
const DOOR_SECRETS = {
  WECHAT_OA_APP_SECRET: randomBytes(16).toString('hex'),
  WECHAT_MOBILE_APP_SECRET: randomBytes(16).toString('hex'),
}
// The operator's key: bans and unbans through the admin API, on every cluster.
const ADMIN_KEY = randomBytes(32).toString('base64url')
const ADMIN_KEYS = `chaos:${ADMIN_KEY}`
const NODE_DOORS = { ...DOOR_VARS, ...DOOR_SECRETS, ADMIN_KEYS }
const EMULATOR_DOORS = {
  WECHAT_OA_APP_ID: DOORS.oa,
  WECHAT_MOBILE_APP_ID: DOORS.mobile,
  ...DOOR_SECRETS,
}

interface Kind {
  name: (typeof NAMES)[number]
  operations?: number
  start(): Promise<Cluster & { output: readonly string[] }>
  /** The processes that must be gone after dispose. */
  commands: string[]
  /** The edge cache the checker allows (none on Node: every read asks Redis). */
  cacheSeconds: number
}

const KINDS: Kind[] = [
  {
    name: 'miniflare',
    start: () =>
      startMiniflareCluster({
        edges: 3,
        vars: {
          MAX_SESSIONS: String(MAX_SESSIONS),
          SESSION_CACHE_SECONDS: String(broken === 'cache' ? 60 : CACHE_SECONDS),
          ...DOOR_VARS,
          ADMIN_KEYS,
        },
        restart: broken === 'persistence' ? 'empty' : 'persisted',
      }),
    commands: ['workerd'],
    cacheSeconds: CACHE_SECONDS,
  },
  {
    name: 'redis',
    start: () =>
      startRedisCluster({
        vars: { MAX_SESSIONS: String(MAX_SESSIONS), ...NODE_DOORS },
        emulatorVars: EMULATOR_DOORS,
        appendfsync: process.env.CHAOS_FSYNC === 'everysec' ? 'everysec' : 'always',
        restart: broken === 'persistence' ? 'empty' : 'persisted',
      }),
    commands: ['node', 'redis-server'],
    cacheSeconds: 0,
  },
  ...(['failover', 'partition'] as const).map(
    (fault): Kind => ({
      name: `sentinel-${fault}`,
      operations: SENTINEL_OPERATIONS,
      start: () =>
        startSentinelCluster({
          fault,
          vars: {
            MAX_SESSIONS: String(MAX_SESSIONS),
            REDIS_WAIT_REPLICAS: waitReplicas,
            ...NODE_DOORS,
          },
          emulatorVars: EMULATOR_DOORS,
        }),
      commands: ['node', 'redis-server'],
      cacheSeconds: 0,
    }),
  ),
]

const kinds = KINDS.filter(
  (kind) =>
    (only === '' || kind.name === only) &&
    !(broken === 'cache' && kind.name !== 'miniflare') &&
    !(broken === 'persistence' && kind.name.startsWith('sentinel')),
)

it.each(kinds)(
  `sessions stay safe through a crash, on $name (seed ${seed}${broken ? `, broken: ${broken}` : ''}${waitReplicas !== '1' ? `, CHAOS_WAIT=${waitReplicas}` : ''})`,
  async (kind) => {
    console.log(`chaos: ${kind.name}: seed ${seed} (CHAOS_SEED=${seed} replays it)`)
    const started = performance.now()
    const cluster = await kind.start()
    let result: Awaited<ReturnType<typeof runWorkload>>
    try {
      result = await runWorkload(cluster, {
        seed,
        operations: kind.operations ?? OPERATIONS,
        doors: DOORS,
        adminKey: ADMIN_KEY,
      })
    } finally {
      await cluster.dispose()
    }
    expect(childProcesses().filter((p) => kind.commands.includes(p.command))).toEqual([])

    const { history, crash } = result
    const violations = check(history, {
      maxSessions: MAX_SESSIONS,
      cacheSeconds: kind.cacheSeconds,
      graceSeconds,
      unknownOutcomeCodes: UNKNOWN_OUTCOME_CODES,
    })
    const ends = history.ops.filter(
      (op) => ['logout', 'revoke', 'logout-all'].includes(op.kind) && acked(op),
    ).length
    const writes = history.ops.filter((op) => op.kind === 'write' && acked(op))
    const live = new Set(
      history.ops.flatMap((op) =>
        op.kind === 'final-read' && acked(op) ? [op.token?.session] : [],
      ),
    )
    const kept = writes.filter((op) => live.has(op.token?.session)).length
    const refreshes = history.ops.filter((op) => op.kind === 'refresh')
    const bans = history.ops.filter((op) => op.kind === 'ban')
    const refusedAsBanned = history.ops.filter((op) => codeOf(op) === 'USER_BANNED').length
    const tokens = `${refreshes.filter(acked).length} refreshes answered (${refreshes.filter((op) => op.lost).length} answers lost and sent again), ${refreshes.filter((op) => codeOf(op) === 'TOKEN_REVOKED').length} reuses, ${history.ops.filter((op) => op.kind === 'steal').length} thefts tried`
    const doors = (['mini', 'oa', 'app'] as const)
      .map((door) => {
        const logins = history.ops.filter((op) => op.kind === 'login' && op.door === door)
        return `${logins.filter(acked).length}/${logins.length} ${door}`
      })
      .join(', ')
    console.log(
      `chaos: ${kind.name}: seed ${seed}, ${history.ops.length} operations, logins acknowledged by door ${doors}, ${writes.length} acknowledged writes (${kept} in the ${live.size} sessions live at the end), ${ends} acknowledged ends, ${bans.filter(acked).length}/${bans.length} bans acknowledged (${refusedAsBanned} requests refused USER_BANNED), ${tokens}, ${inFlightAtCrash(history).length} in flight at the crash (${crash?.killed.join(', ') ?? 'none'}), ${((performance.now() - started) / 1000).toFixed(1)} s${broken ? `, CHAOS_BREAK=${broken}` : ''}${kind.name.startsWith('sentinel') ? `, REDIS_WAIT_REPLICAS=${waitReplicas}` : ''}: ${violations.length} violations`,
    )
    const failed = new Map<CheckName, string[]>()
    for (const v of violations) failed.set(v.check, [...(failed.get(v.check) ?? []), v.message])
    for (const [name, messages] of failed) {
      console.log(
        `chaos: ${kind.name}: ${name}: ${messages.length}\n  ${messages.slice(0, 3).join('\n  ')}`,
      )
    }
    const errors = cluster.output.filter((line) => /error/i.test(line))
    if (errors.length > 0)
      console.log(
        `chaos: ${kind.name}: the runtime logged ${errors.length} errors, first: ${errors[0]}`,
      )
    if (process.env.CHAOS_HISTORY) {
      await writeFile(
        kinds.length > 1 ? `${process.env.CHAOS_HISTORY}.${kind.name}` : process.env.CHAOS_HISTORY,
        JSON.stringify({ seed, ...history, violations }, null, 1),
      )
    }
    expect(Object.fromEntries([...failed].map(([name, m]) => [name, m.length]))).toEqual({})
    // An operator's bans took effect: the run held them to banned-never-served.
    expect(bans.some(acked), 'an acknowledged ban').toBe(true)
    // Every door took logins that counted: the run held them to the same rules.
    for (const door of ['mini', 'oa', 'app'] as const) {
      expect(
        history.ops.some((op) => op.kind === 'login' && op.door === door && acked(op)),
        door,
      ).toBe(true)
    }
  },
  // The sentinel clusters' crash waits up to two minutes for the old primary's resync.
  240_000,
)
