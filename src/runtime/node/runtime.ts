import type { Env } from 'hono'
import { type Logger, WxaAuthError } from '../../errors'
import { storageFaults } from '../../operators/faults'
import type { AuditLog } from '../../operators/ports'
import type { SessionAuthority } from '../../session/authority'
import type { ObjectStore } from '../../storage/objects'
import { whole } from '../../util/variables'
import { memoryAudit } from '../memory/audit'
import { memoryAuthority } from '../memory/authority'
import { memoryClaims } from '../memory/claims'
import { memoryDirectory } from '../memory/directory'
import { memoryKv } from '../memory/kv'
import type { RateLimiter, RuntimeParts, WxaRuntime } from '../runtime'
import { cloudHostingClientAddress, nodeClientAddress, trustedProxies } from './address'
import { redisAudit } from './audit'
import { redisAuthority } from './authority'
import { redisClaims } from './claims'
import { redisDirectory } from './directory'
import {
  type DurabilityMode,
  durabilityRisks,
  type RedisSettings,
  readSettings,
} from './durability'
import { DEFAULT_PREFIX } from './keys'
import { redisKv } from './kv'
import { directoryObjects } from './objects'
import { DEFAULT_RATE_LIMIT, memoryLimiter, redisLimiter } from './rate-limit'
import {
  type AnyRedisClient,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_WAIT_TIMEOUT_MS,
  type RedisConfig,
  RedisStartError,
  redisConfig,
  redisConnection,
} from './redis'

export interface NodeOptions {
  /**
   * Where sessions, identities, claims and rate limits live: a node-redis
   * client (`createClient()`, `createSentinel()` or `createCluster()` from
   * `redis`, connected or not) or a Redis URL. Anything else is `CONFIG_INVALID`.
   * @default REDIS_URL, REDIS_SENTINELS + REDIS_SENTINEL_MASTER, or REDIS_CLUSTER_NODES; without one, this process's memory
   */
  redis?: string | AnyRedisClient | undefined
  /** The variables (`WECHAT_APP_ID`, `JWT_SECRET`, …). @default process.env */
  env?: Readonly<Record<string, string | undefined>>
  /** The prefix of every Redis key, to share a Redis with other apps. @default 'wxa:' */
  prefix?: string
  /** Where connection errors and the in-memory notice go. @default console */
  log?: Logger
}

/**
 * The Node runtime: the parts, and what a server does with them at start and
 * stop. `E` is the host app's Hono env, inferred from where it is passed
 * (`wxaAuth<User, AppEnv>({ runtime: node() })`), as with `cloudflare()`.
 */
export interface NodeRuntime<E extends Env = Env> extends WxaRuntime<E> {
  /** `redis` or `memory`. */
  readonly store: 'redis' | 'memory'
  /**
   * Resolves once Redis answers (at once in memory) and its durability
   * settings were read (a warning per setting that loses acknowledged
   * writes). Rejects with a `RedisStartError` naming `REDIS_URL` (or
   * `REDIS_SENTINELS`, `REDIS_CLUSTER_NODES`) and the
   * likely fix when the first connection fails within 10 s, or, under
   * `REDIS_DURABILITY=strict`, when a setting loses acknowledged writes.
   */
  ready(): Promise<void>
  /** Closes the Redis connections this runtime opened, and stops its sweeper. */
  close(): Promise<void>
}

/** The variable that sets each shape of Redis, named when it fails. */
const REDIS_VARIABLE = {
  plain: 'REDIS_URL',
  sentinel: 'REDIS_SENTINELS',
  cluster: 'REDIS_CLUSTER_NODES',
} as const

/** How a variable is set on Node: the environment, a `.env` file, the platform's settings. */
export const nodeHowToSet = (name: string) =>
  `On Node, set ${name} in the server's environment: export it, put it in a .env file read with \`node --env-file=.env\`, or in the platform's settings (Cloud Hosting: the service's environment variables; SCF: the function's environment variables).`

const limitOf = (vars: Record<string, unknown>, name: string) =>
  whole(vars, name, 0, DEFAULT_RATE_LIMIT)

/**
 * Node (`@hono/node-server`): sessions in Redis (the rules of `rules.ts`
 * under WATCH/MULTI/EXEC, every key of one user tagged `{<uid>}`), sealed
 * records, push claims, rate limits, the directory of users and the audit
 * log (Streams) in Redis too, avatars in a directory
 * (`AVATARS_DIR`). Several processes behind a load balancer share one Redis.
 * Without `REDIS_URL` (and no `redis` option) everything is in this
 * process's memory: one process only, and a restart logs everyone out.
 *
 * Variables of its own: `REDIS_URL` (one node), `REDIS_SENTINELS` with
 * `REDIS_SENTINEL_MASTER` (Sentinel), `REDIS_CLUSTER_NODES` (Cluster),
 * `REDIS_WAIT_REPLICAS` and `REDIS_WAIT_TIMEOUT_MS` (replicas that confirm each
 * change before its answer), `TRUST_PROXY` (proxies in front whose
 * `X-Forwarded-For` is believed; with `CLOUD_HOSTING=wechat` and no
 * `TRUST_PROXY`, the gateway's `X-Original-Forwarded-For`), `AVATARS_DIR`,
 * `LOGIN_RATE_LIMIT` and `USER_RATE_LIMIT` (a minute, per client address and
 * per user; 0 = off), `REDIS_COMMAND_TIMEOUT_MS` (a command unanswered by then
 * is a 503; 3000) and `REDIS_DURABILITY` (`warn`, or `strict`: refuse to start
 * on Redis settings that lose acknowledged writes).
 *
 * @example
 * ```ts
 * import { createApp } from 'wxa-auth'
 * import { node, serve } from 'wxa-auth/node'
 * const runtime = node()
 * await serve({ app: createApp({ runtime }), runtime }) // waits for Redis, closes it on SIGTERM
 * ```
 */
export function node<E extends Env = Env>(options: NodeOptions = {}): NodeRuntime<E> {
  const { env = process.env, prefix = DEFAULT_PREFIX, log = console } = options
  const vars = { ...env } as Record<string, string | undefined>
  const redis: string | AnyRedisClient | RedisConfig | undefined =
    options.redis ?? redisConfig(vars)
  // In Cloud Hosting its gateway's header, unless TRUST_PROXY says otherwise.
  const clientAddress =
    vars.CLOUD_HOSTING?.trim() === 'wechat' && !vars.TRUST_PROXY?.trim()
      ? cloudHostingClientAddress
      : nodeClientAddress(trustedProxies(vars.TRUST_PROXY))
  const dir = vars.AVATARS_DIR?.trim()
  // An avatar's URL goes to WeChat's image check: from the configuration,
  // never from the request's Host, which a client writes (Workers is reached
  // only by the hostnames routed to it).
  if (dir && !vars.PUBLIC_URL?.trim()) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'PUBLIC_URL is not set, and AVATARS_DIR needs it: on Node, avatars need PUBLIC_URL (https://your.domain), the origin their URLs are built on.',
    )
  }
  const objects: ObjectStore | undefined = dir ? directoryObjects(dir) : undefined
  const login = limitOf(vars, 'LOGIN_RATE_LIMIT')
  const user = limitOf(vars, 'USER_RATE_LIMIT')
  const key = {}

  if (redis === undefined) {
    log.warn(
      'wxa-auth: no REDIS_URL: sessions are kept in this process only (single process only; a restart logs everyone out)',
    )
    const kv = memoryKv()
    const claims = memoryClaims()
    const limiter = (limit: number): RateLimiter | undefined =>
      limit > 0 ? memoryLimiter({ limit }) : undefined
    const rateLimits = { login: limiter(login), user: limiter(user) }
    let authority: SessionAuthority | undefined
    let audit: AuditLog | undefined
    const parts: RuntimeParts = {
      key,
      vars,
      kv,
      authority: ({ sealed, objects: store }) =>
        (authority ??= memoryAuthority({
          identities: sealed,
          ...(store ? { objects: store } : {}),
        })),
      objects,
      directory: memoryDirectory(),
      audit: (settings) => (audit ??= memoryAudit(settings)),
      claims,
      rateLimits,
      clientAddress,
      replica: false,
      howToSet: nodeHowToSet,
    }
    return { store: 'memory', parts: () => parts, ready: async () => {}, close: async () => {} }
  }

  const commandTimeoutMs = whole(vars, 'REDIS_COMMAND_TIMEOUT_MS', 1, DEFAULT_COMMAND_TIMEOUT_MS)
  const durability = (vars.REDIS_DURABILITY?.trim() || 'warn') as DurabilityMode
  if (durability !== 'warn' && durability !== 'strict') {
    throw new WxaAuthError('CONFIG_INVALID', 'REDIS_DURABILITY must be warn or strict.')
  }
  const connection = redisConnection(redis, {
    log,
    commandTimeoutMs,
    waitReplicas: whole(vars, 'REDIS_WAIT_REPLICAS', 0, 0),
    waitTimeoutMs: whole(vars, 'REDIS_WAIT_TIMEOUT_MS', 1, DEFAULT_WAIT_TIMEOUT_MS),
  })
  let settings: RedisSettings | undefined
  const limiter = (limit: number): RateLimiter | undefined =>
    limit > 0 ? redisLimiter(connection, prefix, { limit }) : undefined
  let authority: ReturnType<typeof redisAuthority> | undefined
  let audit: AuditLog | undefined
  let stopSweep: (() => void) | undefined
  const parts: RuntimeParts = {
    key,
    vars,
    kv: redisKv(connection, prefix),
    authority({ sealed, objects: store }) {
      if (!authority) {
        authority = redisAuthority({ connection, prefix, sealed, objects: store, log })
        stopSweep = authority.outbox.start()
      }
      return authority
    },
    objects,
    directory: storageFaults(redisDirectory(connection, prefix)),
    audit: (auditSettings) =>
      (audit ??= storageFaults(redisAudit(connection, prefix, auditSettings))),
    claims: redisClaims(connection, prefix),
    rateLimits: { login: limiter(login), user: limiter(user) },
    clientAddress,
    // Redis is one strongly consistent primary: every read asks it, no replica to lag.
    replica: false,
    howToSet: nodeHowToSet,
    async health() {
      const ok = await connection.ping()
      return {
        ok,
        ...(ok ? {} : { failing: REDIS_VARIABLE[connection.kind] }),
        ...(settings && { redis: { ...settings } }),
      }
    },
  }
  return {
    store: 'redis',
    parts: () => parts,
    async ready() {
      await connection.ready()
      settings = await readSettings(connection)
      const risks = durabilityRisks(settings)
      if (risks.length && durability === 'strict') {
        throw new RedisStartError(
          `REDIS_DURABILITY=strict: Redis loses acknowledged writes: ${risks.join('; ')}.`,
        )
      }
      for (const risk of risks) {
        log.warn(`wxa-auth: Redis ${risk} (REDIS_DURABILITY=strict makes this fatal)`)
      }
    },
    async close() {
      stopSweep?.()
      await connection.close()
    },
  }
}
