import { WxaAuthError } from '../../errors'

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

/** A Sentinel lease (`sentinel.use(…)`): one connection to the current master, for as long as it is held. */
export interface SentinelLease {
  sendCommand(isReadonly: boolean | undefined, args: string[]): Promise<unknown>
  multi(): {
    addCommand(isReadonly: boolean | undefined, args: string[]): unknown
    exec(): Promise<unknown[]>
  }
  watch(keys: string | string[]): Promise<unknown>
  unwatch(): Promise<unknown>
}

/** What wxa-auth uses of node-redis's `createSentinel()`. */
export interface RedisSentinelClient {
  readonly isOpen: boolean
  connect(): Promise<unknown>
  use<T>(fn: (lease: never) => Promise<T>): Promise<T>
  acquire(): Promise<unknown>
  on(event: 'error', listener: (err: Error) => void): unknown
  close(): Promise<unknown>
  destroy(): unknown
}

/** What wxa-auth uses of node-redis's `createCluster()`. */
export interface RedisClusterClient {
  readonly isOpen: boolean
  connect(): Promise<unknown>
  getNodeClientForKey(key: string, isReadonly?: boolean): Promise<unknown>
  on(event: 'error', listener: (err: Error) => void): unknown
  close(): Promise<unknown>
  destroy(): void
}

/** A plain client, a Sentinel or a Cluster of node-redis. */
export type AnyRedisClient = RedisClient | RedisSentinelClient | RedisClusterClient

export interface SentinelShape {
  sendCommand(isReadonly: boolean | undefined, args: string[]): Promise<unknown>
  multi(): ReturnType<SentinelLease['multi']>
  acquire(): Promise<unknown>
}
export interface ClusterShape {
  sendCommand(
    key: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>
  multi(routing?: string): {
    addCommand(key: string | undefined, isReadonly: boolean | undefined, args: string[]): unknown
    exec(): Promise<unknown[]>
  }
  getNodeClientForKey(key: string, isReadonly?: boolean): Promise<RedisClient>
  masters: { host: string; port: number }[]
  nodeClient(node: unknown): Promise<RedisClient>
}

/** Which of the three a client is, by its methods; `null` for anything else. */
export function redisKind(client: unknown): 'plain' | 'sentinel' | 'cluster' | null {
  if (!client || typeof client !== 'object') return null
  const has = (name: string) => typeof (client as Record<string, unknown>)[name] === 'function'
  if (!has('connect') || !has('multi')) return null
  if (has('getNodeClientForKey')) return 'cluster'
  if (has('use') && has('acquire')) return 'sentinel'
  if (has('sendCommand') && has('watch') && has('duplicate')) return 'plain'
  return null
}

/**
 * The options of a client made here: fail fast while Redis is away
 * (a 503 and `Retry-After` beat a request that hangs), reconnect quickly.
 */
export const CONNECT_TIMEOUT_MS = 2000 // a connection not up by then: a 503

const CLIENT_OPTIONS = {
  disableOfflineQueue: true,
  // No timer of node-redis's own (5 s, an AbortSignal.timeout per command that
  // stays armed after the answer: about a tenth of a read's CPU): every
  // command here is bounded by REDIS_COMMAND_TIMEOUT_MS already (`deadline`).
  commandOptions: { timeout: 0 },
  socket: {
    connectTimeout: CONNECT_TIMEOUT_MS,
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
  },
}

/** Where to find Redis, from the variables: one of the three shapes, or none. */
export type RedisConfig =
  | { kind: 'plain'; url: string }
  | { kind: 'sentinel'; sentinels: string[]; master: string }
  | { kind: 'cluster'; nodes: string[] }

export const configError = (message: string) => new WxaAuthError('CONFIG_INVALID', message)

/**
 * Reads `REDIS_URL`, `REDIS_SENTINELS` + `REDIS_SENTINEL_MASTER` and
 * `REDIS_CLUSTER_NODES` (at most one of them); `undefined` when none is set.
 * Sentinels and cluster nodes are `host:port` or `redis[s]://[user:password@]host:port`,
 * comma-separated; the credentials and TLS of the first apply to every connection.
 */
export function redisConfig(vars: Record<string, string | undefined>): RedisConfig | undefined {
  const url = vars.REDIS_URL?.trim()
  const sentinels = vars.REDIS_SENTINELS?.trim()
  const cluster = vars.REDIS_CLUSTER_NODES?.trim()
  const given = [
    url && 'REDIS_URL',
    sentinels && 'REDIS_SENTINELS',
    cluster && 'REDIS_CLUSTER_NODES',
  ]
  const set = given.filter(Boolean)
  if (set.length > 1) throw configError(`Set one of ${set.join(', ')}, not several.`)
  const list = (name: string, text: string) => {
    const entries = text
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean)
    const urls = entries.map((entry) => (/^rediss?:\/\//.test(entry) ? entry : `redis://${entry}`))
    for (const entry of urls) {
      let parsed: URL | undefined
      try {
        parsed = new URL(entry)
      } catch {}
      if (!parsed?.hostname || !parsed.port) {
        throw configError(`${name} must be host:port entries, comma-separated.`)
      }
    }
    if (!urls.length) throw configError(`${name} is empty.`)
    return urls
  }
  if (url) {
    if (!/^rediss?:\/\//.test(url))
      throw configError('REDIS_URL must start with redis:// or rediss://.')
    return { kind: 'plain', url }
  }
  if (sentinels) {
    const master = vars.REDIS_SENTINEL_MASTER?.trim()
    if (!master)
      throw configError('REDIS_SENTINELS needs REDIS_SENTINEL_MASTER, the master’s name.')
    return { kind: 'sentinel', sentinels: list('REDIS_SENTINELS', sentinels), master }
  }
  if (cluster) return { kind: 'cluster', nodes: list('REDIS_CLUSTER_NODES', cluster) }
  return undefined
}

/** node-redis's options for one node of a URL list: host, port, credentials, TLS. */
function nodeOf(url: string) {
  const parsed = new URL(url)
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: Number(parsed.port),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    tls: parsed.protocol === 'rediss:',
  }
}

/** Makes the client of a {@link RedisConfig} (node-redis is loaded here, on first use). */
export async function makeClient(config: RedisConfig, pool: number): Promise<AnyRedisClient> {
  const redis = await import('redis')
  if (config.kind === 'plain') {
    return redis.createClient({ url: config.url, ...CLIENT_OPTIONS }) as unknown as RedisClient
  }
  const first = nodeOf(
    config.kind === 'sentinel' ? (config.sentinels[0] as string) : (config.nodes[0] as string),
  )
  const { username, password, tls } = first as {
    username?: string
    password?: string
    tls: boolean
  }
  const credentials = { ...(username ? { username } : {}), ...(password ? { password } : {}) }
  const socket = { ...CLIENT_OPTIONS.socket, ...(tls ? { tls: true as const } : {}) }
  if (config.kind === 'sentinel') {
    return redis.createSentinel({
      name: config.master,
      sentinelRootNodes: config.sentinels.map((url) => {
        const { host, port } = nodeOf(url)
        return { host, port }
      }),
      // The leases of WATCH transactions, and one reserved for every other command: node-redis
      // 6 otherwise takes a lease per burst of parallel commands and loses all but one of them
      // (its `#masterClientInfo ??= await …` races), until the pool is empty and every wait hangs.
      masterPoolSize: pool + 1,
      reserveClient: true,
      nodeClientOptions: {
        ...credentials,
        disableOfflineQueue: true,
        commandOptions: CLIENT_OPTIONS.commandOptions,
        socket,
      } as never,
      sentinelClientOptions: { ...credentials, socket } as never,
    }) as unknown as RedisSentinelClient
  }
  return redis.createCluster({
    rootNodes: config.nodes.map((url) => {
      const { host, port } = nodeOf(url)
      return { socket: { host, port } }
    }),
    defaults: {
      ...credentials,
      disableOfflineQueue: true,
      commandOptions: CLIENT_OPTIONS.commandOptions,
      socket,
    } as never,
  }) as unknown as RedisClusterClient
}

/** A reply of node-redis that says the slot is elsewhere or moving: follow it, do not answer 503. */
export const isRedirect = (err: unknown): boolean => {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (/^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|READONLY)\b/.test(e.message)) return true
    if (e.message.includes('EXECABORT') && /MOVED|ASK|TRYAGAIN/.test(e.message)) return true
  }
  return false
}
