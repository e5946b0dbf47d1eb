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
export const DEFAULT_COMMAND_TIMEOUT_MS = 3000 // a command Redis has not answered by then: a 503
export const DEFAULT_STARTUP_TIMEOUT_MS = 10_000 // the first connection, at start, before giving up
const CONNECT_TIMEOUT_MS = 2000 // a connection of its own that is not up by then: a 503
const ERROR_LOG_INTERVAL_MS = 10_000 // one connection error line per 10 s, not one per retry

/** Why Redis cannot be used at start, and what to change: an error that names `REDIS_URL`. */
export class RedisStartError extends Error {
  override name = 'RedisStartError'
}

/** `redis://host:port`, without the user or password the URL may carry. */
export function redisAddress(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}`
  } catch {
    return 'REDIS_URL'
  }
}

/**
 * What to change, for the error of a first connection that failed: the
 * message names `REDIS_URL` and the likely fix, never the password.
 * `final`: an error no retry mends (a password, a certificate).
 */
export function startupHint(err: Error | undefined, url: string): { hint: string; final: boolean } {
  const code = (err as { code?: string } | undefined)?.code ?? ''
  const message = err?.message ?? ''
  const where = redisAddress(url)
  const tls = url.startsWith('rediss:')
  if (/^NOAUTH|HELLO must be called with the client already authenticated/.test(message)) {
    return {
      final: true,
      hint: `Redis at ${where} asks for a password and REDIS_URL has none: redis://:PASSWORD@host:port (redis://USER:PASSWORD@… for an ACL user)`,
    }
  }
  if (/^WRONGPASS|invalid password|invalid username-password/i.test(message)) {
    return {
      final: true,
      hint: `Redis at ${where} refused the user or password in REDIS_URL: check them (characters such as @ : / # in a password must be percent-encoded)`,
    }
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code) || /certificate/i.test(message)) {
    return {
      final: true,
      hint: `the TLS certificate of Redis at ${where} is not trusted (${message}): give Node the CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem, or pass node({ redis: createClient({ url, socket: { tls: true, ca } }) })`,
    }
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return {
      final: false,
      hint: `the host of REDIS_URL (${where}) does not resolve: check the host name (a cloud Redis gives a private address reachable from the same VPC)`,
    }
  }
  if (code === 'ECONNREFUSED') {
    return {
      final: false,
      hint: `nothing accepts connections at ${where}: is Redis running, and are the host and port of REDIS_URL right?`,
    }
  }
  return {
    final: false,
    hint: tls
      ? `no TLS connection to ${where} (${message || 'no answer'}): is that port TLS? For a plain port use redis://; else check the firewall or security group`
      : `no answer from ${where} (${message || 'no answer'}): check the host and port of REDIS_URL, the firewall or security group, and whether this Redis wants TLS (rediss://)`,
  }
}

/** Rejects with `error()` when `promise` is not settled within `ms`. */
export function deadline<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(error()), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/**
 * The client with every command bounded by `ms`: one Redis has not answered
 * by then rejects (the caller answers 503), and `onTimeout` runs. Once it
 * timed out, what follows on that client fails at once when `brittle` (a
 * WATCH connection, whose replies and WATCH state are then unknown).
 */
function timed(
  client: RedisClient,
  ms: number,
  brittle: boolean,
  onTimeout: () => void,
): RedisClient {
  let broken = false
  const bound = <T>(promise: Promise<T>): Promise<T> => {
    if (broken) {
      promise.catch(() => {})
      return Promise.reject(new Error('Redis did not answer on this connection'))
    }
    return deadline(promise, ms, () => {
      if (brittle) broken = true
      onTimeout()
      return new Error(`Redis did not answer within ${ms} ms`)
    })
  }
  return {
    get isOpen() {
      return client.isOpen
    },
    connect: () => client.connect(),
    sendCommand: (args) => bound(client.sendCommand(args)),
    multi() {
      const multi = client.multi()
      const wrapped: RedisMulti = {
        addCommand(args) {
          multi.addCommand(args)
          return wrapped
        },
        exec: () => bound(multi.exec()),
      }
      return wrapped
    },
    watch: (keys) => bound(client.watch(keys)),
    unwatch: () => bound(client.unwatch()),
    duplicate: () => client.duplicate(),
    on: (event, listener) => client.on(event, listener),
    close: () => client.close(),
    destroy: () => client.destroy(),
  }
}

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
  /**
   * Resolves once the shared connection is up; rejects with a
   * {@link RedisStartError} naming `REDIS_URL` and the likely fix when it is
   * not up within `startupTimeoutMs` (at once for a password or a certificate).
   */
  ready(): Promise<void>
  /** Whether Redis answers a PING within the command timeout. */
  ping(): Promise<boolean>
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
  {
    log = console,
    isolatedConnections = DEFAULT_ISOLATED_CONNECTIONS,
    commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
    startupTimeoutMs = DEFAULT_STARTUP_TIMEOUT_MS,
  } = {} as {
    log?: Logger
    isolatedConnections?: number
    /** How long a command may wait for Redis's answer before a 503. */
    commandTimeoutMs?: number
    /** How long `ready()` waits for the first connection. */
    startupTimeoutMs?: number
  },
): RedisConnection {
  let lastLogged = 0
  let lastError: Error | undefined
  let failFirst: ((err: Error) => void) | undefined
  const url = typeof redis === 'string' ? redis : 'REDIS_URL'
  const onError = (err: Error) => {
    lastError = err
    if (failFirst && startupHint(err, url).final) failFirst(err)
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
  const within = <T>(promise: Promise<T>): Promise<T> =>
    deadline(promise, CONNECT_TIMEOUT_MS, () => new Error('Redis is not connected'))
  const sharedTimed = shared.then((client) => timed(client, commandTimeoutMs, false, () => {}))
  sharedTimed.catch(() => {})

  const idle: RedisClient[] = []
  const all: RedisClient[] = []
  const waiting: { resolve: (client: RedisClient) => void; reject: (err: unknown) => void }[] = []
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
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }))
  }
  function release(client: RedisClient) {
    const next = waiting.shift()
    if (next) next.resolve(client)
    else idle.push(client)
  }
  /** A connection whose command timed out: its replies and WATCH are unknown, so it goes. */
  function discard(client: RedisClient) {
    all.splice(all.indexOf(client), 1)
    client.destroy()
    const next = waiting.shift()
    if (next) acquire().then(next.resolve, next.reject)
  }

  return {
    // Once up, commands go out at once; while Redis is away they fail at once (no offline queue).
    shared: () => (up ? sharedTimed : within(started).then(() => sharedTimed)),
    async isolated(fn) {
      const connection = await acquire()
      let stalled = false
      try {
        return await fn(
          timed(connection, commandTimeoutMs, true, () => {
            stalled = true
          }),
        )
      } finally {
        if (stalled) discard(connection)
        else release(connection)
      }
    },
    async ready() {
      const first = new Promise<never>((_, reject) => {
        failFirst = reject
      })
      try {
        await deadline(Promise.race([started, first]), startupTimeoutMs, () => new Error())
      } catch (err) {
        const cause = (err as Error).message ? (err as Error) : lastError
        const { hint } = startupHint(cause, url)
        throw new RedisStartError(`REDIS_URL: ${hint}.`, { cause })
      } finally {
        failFirst = undefined
      }
    },
    async ping() {
      try {
        const client = await (up ? sharedTimed : within(started).then(() => sharedTimed))
        return (await client.sendCommand(['PING'])) === 'PONG'
      } catch {
        return false
      }
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
