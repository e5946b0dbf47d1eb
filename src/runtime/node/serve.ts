import type { AddressInfo } from 'node:net'
import type { Env } from 'hono'
import { createApp } from '../../app'
import type { Logger } from '../../errors'
import type { DefaultUser } from '../../hooks'
import type { WxaAuthOptions } from '../../options'
import { type NodeRuntime, node } from './runtime'

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
  /** Closes the server on SIGTERM and SIGINT, as containers stop them. @default true */
  signals?: boolean
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
 * runtime's Redis answers.
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
  const runtime = (rest.runtime ?? (given ? undefined : node({ log }))) as NodeRuntime | undefined
  const app = given ?? createApp({ ...rest, runtime } as unknown as WxaAuthOptions<User, E>)
  await runtime?.ready?.()
  const port = portOption ?? (process.env.PORT ? Number(process.env.PORT) : DEFAULT_PORT)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`wxa-auth: PORT must be a port number, not ${process.env.PORT}`)
  }
  const hostname = hostOption ?? (process.env.HOST || undefined)
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
