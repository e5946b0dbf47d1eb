import type { Logger } from '../../errors'

/** A MULTI of node-redis: commands queued, then sent as MULTI … EXEC in one write. */
export interface RedisMulti {
  addCommand(args: string[]): RedisMulti
  /** The replies; throws node-redis's `WatchError` when a watched key changed. */
  exec(): Promise<unknown[]>
}

/**
 * What wxa-auth uses of a node-redis client (`createClient()` from `redis`):
 * generic commands, MULTI, WATCH (whose reconnect check node-redis keeps),
 * and `duplicate()` for connections of its own.
 */
export interface RedisClient {
  readonly isOpen: boolean
  connect(): Promise<unknown>
  sendCommand(args: string[]): Promise<unknown>
  multi(): RedisMulti
  watch(keys: string | string[]): Promise<unknown>
  unwatch(): Promise<unknown>
  duplicate(): RedisClient
  on(event: 'error', listener: (err: Error) => void): unknown
  close(): Promise<unknown>
  destroy(): void
}

export const DEFAULT_ISOLATED_CONNECTIONS = 8 // WATCH transactions at once, per process
const CONNECT_TIMEOUT_MS = 2000 // a connection of its own that is not up by then: a 503
const ERROR_LOG_INTERVAL_MS = 10_000 // one connection error line per 10 s, not one per retry

/**
 * One Redis as wxa-auth uses it: a shared connection for plain commands and
 * MULTIs (node-redis pipelines them), and a few connections of its own for
 * WATCH transactions, since WATCH belongs to a connection: two transactions
 * on one would guard each other's keys, or neither's.
 */
export interface RedisConnection {
  /** The shared connection (its first connect awaited a moment; later, while Redis is away, commands fail at once). */
  shared(): Promise<RedisClient>
  /** Runs `fn` on a connection nothing else uses meanwhile (WATCH … EXEC). */
  isolated<T>(fn: (client: RedisClient) => Promise<T>): Promise<T>
  /** Resolves once the shared connection is up. */
  ready(): Promise<void>
  /** Closes what this module opened (the shared client too when it made it). */
  close(): Promise<void>
}

/**
 * The options of a client made from a URL: fail fast while Redis is away
 * (a 503 and `Retry-After` beat a request that hangs), reconnect quickly.
 */
const URL_CLIENT_OPTIONS = {
  disableOfflineQueue: true,
  socket: {
    connectTimeout: 2000,
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
  },
}

/**
 * Connects to Redis: a node-redis client as given (connected here when it is
 * not), or a new one for a `redis://` / `rediss://` URL (node-redis is then
 * loaded on first use, so that a server without Redis needs no `redis`
 * package).
 */
export function redisConnection(
  redis: string | RedisClient,
  { log = console, isolatedConnections = DEFAULT_ISOLATED_CONNECTIONS } = {} as {
    log?: Logger
    isolatedConnections?: number
  },
): RedisConnection {
  let lastLogged = 0
  const onError = (err: Error) => {
    if (Date.now() - lastLogged < ERROR_LOG_INTERVAL_MS) return
    lastLogged = Date.now()
    log.error(`wxa-auth: Redis connection error (retrying): ${err.message}`)
  }
  const owned = typeof redis === 'string'
  let made: Promise<RedisClient>
  if (typeof redis === 'string') {
    if (!/^rediss?:\/\//.test(redis)) {
      throw new TypeError('wxa-auth: REDIS_URL must start with redis:// or rediss://')
    }
    made = import('redis').then(
      ({ createClient }) =>
        createClient({ url: redis, ...URL_CLIENT_OPTIONS }) as unknown as RedisClient,
    )
  } else {
    made = Promise.resolve(redis)
  }
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
  const within = <T>(promise: Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined
    return Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('Redis is not connected')), CONNECT_TIMEOUT_MS)
      }),
    ]).finally(() => clearTimeout(timer))
  }

  const idle: RedisClient[] = []
  const all: RedisClient[] = []
  const waiting: ((client: RedisClient) => void)[] = []
  async function acquire(): Promise<RedisClient> {
    const free = idle.pop()
    if (free) return free
    if (all.length < isolatedConnections) {
      const client = (await within(started)).duplicate()
      all.push(client)
      client.on('error', onError)
      const connected = client.connect()
      connected.catch(() => {})
      try {
        await within(connected)
      } catch (err) {
        all.splice(all.indexOf(client), 1)
        client.destroy()
        throw err
      }
      return client
    }
    return new Promise((resolve) => waiting.push(resolve))
  }
  function release(client: RedisClient) {
    const next = waiting.shift()
    if (next) next(client)
    else idle.push(client)
  }

  return {
    // Once up, commands go out at once; while Redis is away they fail at once (no offline queue).
    shared: () => (up ? shared : within(started)),
    async isolated(fn) {
      const connection = await acquire()
      try {
        return await fn(connection)
      } finally {
        release(connection)
      }
    },
    async ready() {
      await started
    },
    async close() {
      for (const connection of all.splice(0)) await connection.close().catch(() => {})
      idle.length = 0
      const client = await shared.catch(() => undefined)
      if (owned && client) {
        if (client.isOpen) await client.close().catch(() => {})
        else client.destroy()
      }
    },
  }
}
