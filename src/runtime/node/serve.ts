import type { AddressInfo } from 'node:net'
import type { Env } from 'hono'
import { createApp } from '../../app'
import { buildConfig, configSubject } from '../../config'
import { isWxaAuthError, type Logger } from '../../errors'
import type { DefaultUser } from '../../hooks'
import type { WxaAuthOptions } from '../../options'
import { type NodeRuntime, node, nodeHowToSet } from './runtime'

export const DEFAULT_PORT = 3000 // @hono/node-server's own default

/** Anything that answers a Request: a Hono app. */
export interface FetchApp {
  fetch(request: Request, env?: unknown): Response | Promise<Response>
}

/** A running server. */
export interface NodeServer {
  /** `http://<host>:<port>`, the port as bound (useful with `port: 0`). */
  readonly url: string
  readonly port: number
  /** Stops accepting connections, waits for those open, then closes the runtime's Redis. */
  close(): Promise<void>
}

export interface ServeOptions<User extends { id: string } = DefaultUser, E extends Env = Env>
  extends Partial<WxaAuthOptions<User, E>> {
  /**
   * The app to serve: your Hono app with wxa-auth mounted (pass its `runtime`
   * too, so that the server waits for Redis and closes it). Default:
   * wxa-auth's whole app, `createApp()` with the other options and `runtime`.
   */
  app?: FetchApp
  /** @default process.env.PORT, else 3000 */
  port?: number
  /** @default process.env.HOST, else every interface */
  hostname?: string
  /**
   * Closes the server on SIGTERM and SIGINT, as containers stop them, and
   * exits the process with code 1 when it cannot start (after one line
   * saying why). `false`: `serve()` rejects instead. @default true
   */
  signals?: boolean
}

/** Why the server cannot start, for the one line it prints: the variable at fault and how to set it. */
function startFailure(err: unknown): string {
  if (isWxaAuthError(err) && err.code === 'CONFIG_INVALID') {
    const name = configSubject(err.message)
    return name && !err.message.includes(nodeHowToSet(name))
      ? `${err.message} ${nodeHowToSet(name)}`
      : err.message
  }
  return err instanceof Error ? err.message : String(err)
}

/** Listens with `@hono/node-server` (loaded here, so that only a server needs it). */
export async function listen(
  app: FetchApp,
  { port, hostname }: { port: number; hostname?: string | undefined },
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const { serve: start } = await import('@hono/node-server')
  return new Promise((resolve, reject) => {
    const server = start(
      { fetch: app.fetch as never, port, ...(hostname ? { hostname } : {}) },
      (info: AddressInfo) => {
        const host =
          hostname && hostname !== '0.0.0.0' && hostname !== '::' ? hostname : '127.0.0.1'
        resolve({
          url: `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`,
          port: info.port,
          close: () =>
            new Promise<void>((done, failed) =>
              server.close((err?: Error) => (err ? failed(err) : done())),
            ),
        })
      },
    )
    server.once('error', reject)
  })
}

/**
 * Serves wxa-auth (or your app) on Node with `@hono/node-server`, once the
 * runtime's configuration is complete and its Redis answers (checked before
 * listening: a missing variable or a Redis it cannot use exits the process
 * with code 1 and one line naming the variable and the fix; with
 * `signals: false` it rejects instead).
 *
 * @example
 * ```ts
 * import { serve } from 'wxa-auth/node'
 * await serve() // createApp({ runtime: node() }) on PORT, Redis at REDIS_URL
 * ```
 */
export async function serve<User extends { id: string } = DefaultUser, E extends Env = Env>(
  options: ServeOptions<User, E> = {},
): Promise<NodeServer> {
  const { app: given, port: portOption, hostname: hostOption, signals = true, ...rest } = options
  const log: Logger = rest.log ?? console
  let runtime: NodeRuntime | undefined
  let started: { app: FetchApp; port: number; hostname: string | undefined }
  try {
    started = await start()
  } catch (err) {
    if (!signals) {
      await runtime?.close?.()
      throw err
    }
    log.error(`wxa-auth: cannot start: ${startFailure(err)}`)
    await runtime?.close?.()
    process.exit(1)
  }
  /** Everything that can be wrong, found before listening: the variables, then Redis. */
  async function start() {
    const port = portOption ?? (process.env.PORT ? Number(process.env.PORT) : DEFAULT_PORT)
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TypeError(`PORT must be a port number, not ${process.env.PORT}.`)
    }
    runtime = (rest.runtime ?? (given ? undefined : node({ log }))) as NodeRuntime | undefined
    const app = given ?? createApp({ ...rest, runtime } as unknown as WxaAuthOptions<User, E>)
    // The configuration as the first request would build it (the runtime's parts are kept, so
    // this is the same authority): a missing secret stops the start, not the first login.
    if (runtime?.store) buildConfig(runtime.parts(undefined as never), { log })
    await runtime?.ready?.()
    return { app, port, hostname: hostOption ?? (process.env.HOST || undefined) }
  }
  const { app, port, hostname } = started
  const server = await listen(app, { port, hostname })
  const store = runtime?.store
    ? `, sessions in ${runtime.store === 'redis' ? 'Redis' : 'memory'}`
    : ''
  console.log(`wxa-auth: listening on ${server.url}${store}`)
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= server.close().finally(() => runtime?.close?.())
    return closing
  }
  if (signals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        void close().finally(() => process.exit(0))
      })
    }
  }
  return { url: server.url, port: server.port, close }
}
