import { type Logger, WxaAuthError } from '../../errors'
import {
  type AnyRedisClient,
  type ClusterShape,
  CONNECT_TIMEOUT_MS,
  configError,
  makeClient,
  type RedisClient,
  type RedisConfig,
  redisConfig,
  redisKind,
  type SentinelLease,
  type SentinelShape,
} from './redis-clients'
import { CommandTimeout, connectionPool, type Held, type Pool, type RedisLink } from './redis-pool'
import { deadline, RedisStartError, startupHint, startupSubject } from './redis-startup'

export * from './redis-clients'
export type { RedisLink } from './redis-pool'
export * from './redis-startup'

export const DEFAULT_ISOLATED_CONNECTIONS = 8 // WATCH transactions at once, per process (per master on a cluster)
export const DEFAULT_WAIT_TIMEOUT_MS = 1000 // how long WAIT waits for the replicas, then a 503
const SCAN_COUNT = '500' // keys per SCAN page
export const DEFAULT_COMMAND_TIMEOUT_MS = 3000 // a command Redis has not answered by then: a 503 (a failover can strand one)
export const DEFAULT_STARTUP_TIMEOUT_MS = 10_000 // the first connection, at start, before giving up
const ERROR_LOG_INTERVAL_MS = 10_000 // one connection error line per 10 s, not one per retry

/**
 * One Redis as wxa-auth uses it, whichever its shape (one node, a Sentinel's
 * master, a cluster): commands routed by their key, MULTIs of one slot, and
 * connections of its own for WATCH transactions, since WATCH belongs to a
 * connection: two transactions on one would guard each other's keys, or neither's.
 */
export interface RedisConnection {
  readonly kind: 'plain' | 'sentinel' | 'cluster'
  /** Whether changes wait for replicas (`REDIS_WAIT_REPLICAS` > 0). */
  readonly waits: boolean
  /** One command, on the master of `key`'s slot (MOVED/ASK followed by node-redis). */
  send(key: string, args: string[]): Promise<unknown>
  /** A MULTI … EXEC of commands all in `key`'s slot. */
  exec(key: string, commands: string[][]): Promise<unknown[]>
  /**
   * A change that must survive a failover: `exec` then, when
   * `REDIS_WAIT_REPLICAS` > 0, WAIT on the same connection.
   */
  write(key: string, commands: string[][]): Promise<unknown[]>
  /** Runs `fn` on a connection nothing else uses meanwhile, to the master of `key`'s slot. */
  isolated<T>(key: string, fn: (link: RedisLink) => Promise<T>): Promise<T>
  /** The names that match a `SCAN … MATCH` pattern, on every master. */
  keys(match: string): Promise<string[]>
  /**
   * Resolves once Redis answers; rejects with a {@link RedisStartError}
   * naming the variable and the likely fix when it does not within
   * `startupTimeoutMs` (at once for a password or a certificate).
   */
  ready(): Promise<void>
  /** Whether Redis answers a PING within the command timeout (every master of a cluster). */
  ping(): Promise<boolean>
  /** Closes what this module opened (the client too when it made it). */
  close(): Promise<void>
}

/**
 * Connects to Redis: a node-redis client as given (connected here when it is
 * not: `createClient()`, `createSentinel()` or `createCluster()`), or one made
 * here from a URL or a {@link RedisConfig}. Anything else is `CONFIG_INVALID`.
 */
export function redisConnection(
  redis: string | RedisConfig | AnyRedisClient,
  {
    log = console,
    isolatedConnections = DEFAULT_ISOLATED_CONNECTIONS,
    waitReplicas = 0,
    waitTimeoutMs = DEFAULT_WAIT_TIMEOUT_MS,
    commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
    startupTimeoutMs = DEFAULT_STARTUP_TIMEOUT_MS,
  } = {} as {
    log?: Logger
    isolatedConnections?: number
    /** `REDIS_WAIT_REPLICAS`: replicas that confirm each change before its answer. @default 0 */
    waitReplicas?: number
    /** `REDIS_WAIT_TIMEOUT_MS`. @default 1000 */
    waitTimeoutMs?: number
    /** `REDIS_COMMAND_TIMEOUT_MS`: how long a command may wait for Redis's answer before a 503. @default 3000 */
    commandTimeoutMs?: number
    /** How long `ready()` waits for the first connection. */
    startupTimeoutMs?: number
  },
): RedisConnection {
  let lastLogged = 0
  let lastError: Error | undefined
  let failFirst: ((err: Error) => void) | undefined
  const onError = (err: Error) => {
    lastError = err
    if (failFirst && startupHint(err, url, variable).final) failFirst(err)
    if (Date.now() - lastLogged < ERROR_LOG_INTERVAL_MS) return
    lastLogged = Date.now()
    log.error(`wxa-auth: Redis connection error (retrying): ${err.message}`)
  }
  const config: RedisConfig | undefined =
    typeof redis === 'string'
      ? (redisConfig({ REDIS_URL: redis }) as RedisConfig)
      : 'kind' in redis && typeof redis.kind === 'string'
        ? (redis as RedisConfig)
        : undefined
  const kind = config ? config.kind : redisKind(redis)
  if (!kind) {
    throw configError(
      'The redis option must be a node-redis createClient(), createSentinel() or createCluster(), or a URL.',
    )
  }
  const { variable, url } = startupSubject(kind, config)
  const owned = config !== undefined
  const made: Promise<AnyRedisClient> = config
    ? makeClient(config, isolatedConnections)
    : Promise.resolve(redis as AnyRedisClient)
  let connecting: Promise<unknown> = Promise.resolve()
  const shared = made.then((client) => {
    client.on('error', onError)
    if (!client.isOpen) connecting = client.connect()
    return client
  })
  const started = shared.then(async (client) => {
    await connecting
    return client
  })
  // A failed first connection is reported where it is awaited, not as an unhandled rejection.
  started.catch(() => {})
  let up = false
  void started.then(
    () => {
      up = true
    },
    () => {},
  )
  /** A connect that is not done by then is a 503: requests do not wait long for Redis. */
  const within = <T>(promise: Promise<T>): Promise<T> =>
    deadline(promise, CONNECT_TIMEOUT_MS, () => new Error('Redis is not connected'))
  /** A command not answered in time fails (its connection is then dropped): a 503, never a request that hangs. */
  const timed = <T>(promise: Promise<T>, ms = commandTimeoutMs): Promise<T> =>
    deadline(promise, ms, () => new CommandTimeout(ms))
  // Once up, commands go out at once; while Redis is away they fail at once (no offline queue).
  const client = (): Promise<AnyRedisClient> => (up ? shared : within(started))

  /** WAIT on the connection that wrote: its own last write is what the replicas must have. */
  const replicated = async (send: (args: string[]) => Promise<unknown>) => {
    if (waitReplicas <= 0) return
    let acked: number
    try {
      acked = Number(await send(['WAIT', String(waitReplicas), String(waitTimeoutMs)]))
    } catch (cause) {
      throw outcomeUnknown(new Error('Redis WAIT failed', { cause }))
    }
    if (acked < waitReplicas) {
      throw outcomeUnknown(
        new Error(
          `Redis WAIT: ${acked} of ${waitReplicas} replicas confirmed in ${waitTimeoutMs} ms`,
        ),
      )
    }
  }
  /**
   * A link whose commands are bounded by the command timeout; once one timed
   * out, its replies and WATCH state are unknown, so what follows fails at once
   * (and the pool lets the connection go).
   */
  const linkOf = (
    send: (args: string[]) => Promise<unknown>,
    exec: (commands: string[][]) => Promise<unknown[]>,
    watch: (keys: string[]) => Promise<unknown>,
    unwatch: () => Promise<unknown>,
  ): RedisLink => {
    let broken = false
    const bound = <T>(run: () => Promise<T>, ms = commandTimeoutMs): Promise<T> => {
      if (broken) return Promise.reject(new CommandTimeout(ms))
      return timed(run(), ms).catch((err) => {
        if (err instanceof CommandTimeout) broken = true
        throw err
      })
    }
    const waitMs = waitTimeoutMs + commandTimeoutMs
    return {
      send: (args) => bound(() => send(args), args[0] === 'WAIT' ? waitMs : undefined),
      exec: (commands) => bound(() => exec(commands)),
      watch: (keys) => bound(() => watch(keys)),
      unwatch: () => bound(() => unwatch()),
      replicated: () => replicated((args) => bound(() => send(args), waitMs)),
    }
  }
  const plainLink = (c: RedisClient) =>
    linkOf(
      (args) => c.sendCommand(args),
      (commands) => {
        const multi = c.multi()
        for (const args of commands) multi.addCommand(args)
        return multi.exec()
      },
      (keys) => c.watch(keys),
      () => c.unwatch(),
    )

  const pools = new Map<string, Pool>()
  const poolFor = (name: string, make: () => Promise<Held>) => {
    let found = pools.get(name)
    if (!found) {
      found = connectionPool(isolatedConnections, make)
      pools.set(name, found)
    }
    return found
  }
  /** A duplicate of `source`, connected (within the connect timeout). */
  const duplicateOf = (source: () => Promise<RedisClient>) => async () => {
    const conn = (await source()).duplicate()
    conn.on('error', onError)
    const connected = conn.connect()
    connected.catch(() => {})
    try {
      await within(connected)
    } catch (err) {
      conn.destroy()
      throw err
    }
    return { conn, link: plainLink(conn), open: () => conn.isOpen, close: () => conn.close() }
  }
  /** Where Sentinel leases come from: the sentinel made here, or a duplicate of yours with a pool big enough. */
  let leases: Promise<SentinelShape & AnyRedisClient> | undefined
  const leaseSource = (c: AnyRedisClient) => {
    leases ??= (async () => {
      if (owned) return c as unknown as SentinelShape & AnyRedisClient
      type Duplicable = { duplicate(o: object): SentinelShape & AnyRedisClient }
      const copy = (c as unknown as Duplicable).duplicate({ masterPoolSize: isolatedConnections })
      copy.on('error', onError)
      await copy.connect()
      return copy
    })()
    return leases
  }
  const sentinelLease = (c: AnyRedisClient) => async () => {
    // A lease let go after a timeout returns to node-redis's pool only once its reset is answered
    // (never, if a failover drops it): wait for one no longer than a command.
    type Lease = SentinelLease & { release(): unknown }
    const acquired = (await leaseSource(c)).acquire() as Promise<Lease>
    const lease = await timed(acquired).catch((err: unknown) => {
      void acquired.then((late) => late.release()).catch(() => {})
      throw err
    })
    const link = linkOf(
      (args) => lease.sendCommand(false, args),
      (commands) => {
        const multi = lease.multi()
        for (const args of commands) multi.addCommand(false, args)
        return multi.exec()
      },
      (keys) => lease.watch(keys),
      () => lease.unwatch(),
    )
    return { conn: lease, link, open: () => true, close: async () => lease.release() }
  }

  async function sendShared(key: string, args: string[]) {
    const c = await client()
    if (kind === 'cluster') return (c as unknown as ClusterShape).sendCommand(key, false, args)
    if (kind === 'sentinel') return (c as unknown as SentinelShape).sendCommand(false, args)
    return (c as RedisClient).sendCommand(args)
  }
  async function execShared(key: string, commands: string[][]) {
    const c = await client()
    if (kind === 'cluster') {
      const multi = (c as unknown as ClusterShape).multi(key)
      for (const args of commands) multi.addCommand(key, false, args)
      return multi.exec()
    }
    if (kind === 'sentinel') {
      const multi = (c as unknown as SentinelShape).multi()
      for (const args of commands) multi.addCommand(false, args)
      return multi.exec()
    }
    const multi = (c as RedisClient).multi()
    for (const args of commands) multi.addCommand(args)
    return multi.exec()
  }

  const connection: RedisConnection = {
    kind,
    waits: waitReplicas > 0,
    send: (key, args) => timed(sendShared(key, args)),
    exec: (key, commands) => timed(execShared(key, commands)),
    async write(key, commands) {
      if (waitReplicas <= 0) return connection.exec(key, commands)
      return connection.isolated(key, async (link) => {
        const replies = await link.exec(commands)
        await link.replicated()
        return replies
      })
    },
    async isolated(key, fn) {
      const c = await client()
      if (kind === 'sentinel') return poolFor('', sentinelLease(c)).use(fn)
      if (kind === 'plain')
        return poolFor(
          '',
          duplicateOf(async () => c as RedisClient),
        ).use(fn)
      const cluster = c as unknown as ClusterShape
      const master = await within(cluster.getNodeClientForKey(key, false))
      const { host, port } =
        (master as { options?: { socket?: { host?: string; port?: number } } }).options?.socket ??
        {}
      try {
        return await poolFor(
          `${host}:${port}`,
          duplicateOf(async () => master),
        ).use(fn)
      } catch (err) {
        // The slot may have moved (a resharding, a failover): a routed command follows MOVED and
        // refreshes node-redis's map of slots; the caller retries a redirect.
        await cluster.sendCommand(key, true, ['EXISTS', key]).catch(() => {})
        throw err
      }
    },
    async keys(match) {
      const c = await client()
      const scanners: ((args: string[]) => Promise<unknown>)[] =
        kind === 'cluster'
          ? await Promise.all(
              (c as unknown as ClusterShape).masters.map(async (node) => {
                const master = await (c as unknown as ClusterShape).nodeClient(node)
                return (args: string[]) => master.sendCommand(args)
              }),
            )
          : [(args) => connection.send(match, args)]
      const names: string[] = []
      for (const scan of scanners) {
        let cursor = '0'
        do {
          const [next, page] = (await scan([
            'SCAN',
            cursor,
            'MATCH',
            match,
            'COUNT',
            SCAN_COUNT,
          ])) as [string, string[]]
          cursor = String(next)
          for (const name of page) names.push(String(name))
        } while (cursor !== '0')
      }
      return names
    },
    async ready() {
      const first = new Promise<never>((_, reject) => {
        failFirst = reject
      })
      try {
        await deadline(Promise.race([started, first]), startupTimeoutMs, () => new Error())
      } catch (err) {
        const cause = (err as Error).message ? (err as Error) : lastError
        const { hint } = startupHint(cause, url, variable)
        throw new RedisStartError(`${variable}: ${hint}.`, { cause })
      } finally {
        failFirst = undefined
      }
    },
    async ping() {
      try {
        if (kind !== 'cluster') return (await connection.send('', ['PING'])) === 'PONG'
        const cluster = (await client()) as unknown as ClusterShape
        const replies = await Promise.all(
          cluster.masters.map(async (node) =>
            timed((await within(cluster.nodeClient(node))).sendCommand(['PING'])),
          ),
        )
        return replies.every((reply) => reply === 'PONG')
      } catch {
        return false
      }
    },
    async close() {
      for (const { all } of pools.values()) {
        for (const held of all) await Promise.resolve(held.close?.()).catch(() => {})
        all.clear()
      }
      pools.clear()
      const copy = leases && !owned ? await leases.catch(() => undefined) : undefined
      await copy?.close().catch(() => {})
      const c = await shared.catch(() => undefined)
      if (owned && c) {
        if (c.isOpen) await Promise.resolve(c.close()).catch(() => {})
        else await Promise.resolve(c.destroy()).catch(() => {})
      }
    },
  }
  return connection
}

const outcomeUnknown = (cause: Error) =>
  new WxaAuthError('STORAGE_OUTCOME_UNKNOWN', undefined, { cause, retryAfter: 1 })
