import type { Hono } from 'hono'
import { listen } from '../runtime/node/serve'
import { emulatorApp } from './app'
import type { BuiltPush } from './push'
import { memoryStorage } from './storage'
import type { EmulatorEnv } from './wechat/state'

/** The Node emulator's environment: the apps it plays WeChat for, and where pushes go. */
export interface NodeEmulatorEnv extends EmulatorEnv {
  /** The app `POST /__emulator/events` delivers pushes to (`<APP_URL>/wechat/events`). */
  APP_URL?: string
}

/**
 * The WeChat emulator as a plain Hono app over this process's memory:
 * WeChat's API paths (answering 40013 and 40125 for apps and secrets it does
 * not know), the control surface `/__emulator/*` as `npm run dev` serves it,
 * and `POST /__emulator/events`, which builds a push and delivers it to
 * `APP_URL`, answering `{ status, answer }`.
 */
export function nodeEmulator(env: NodeEmulatorEnv = {}): Hono {
  const app = emulatorApp(memoryStorage(), env)
  app.post('/__emulator/events', async (c) => {
    const target = env.APP_URL?.trim()
    if (!target) return c.json({ error: 'APP_URL is not set: where should the push go?' }, 409)
    const built = await app.request('/__emulator/push', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: await c.req.text(),
    })
    if (!built.ok) return built
    const push = (await built.json()) as BuiltPush
    const delivered = await fetch(new URL(`/wechat/events?${push.query}`, target), {
      method: 'POST',
      headers: { 'Content-Type': push.contentType },
      body: push.body,
    })
    return c.json({ status: delivered.status, answer: await delivered.text() })
  })
  return app
}

/** A running emulator. */
export interface RunningEmulator {
  /** `http://127.0.0.1:<port>`: point `WECHAT_API_BASE` at it. */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/**
 * Starts the emulator on a port (0: a free one), for Node tests: point the
 * server's `WECHAT_API_BASE` at `url`, give both the same `WECHAT_APP_ID` and
 * `WECHAT_APP_SECRET`, and drive it with `emulatorClient(url)`.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator({ env: { WECHAT_APP_ID: 'wx…', WECHAT_APP_SECRET: 'test' } })
 * const code = await emulatorClient(emulator.url).loginCode('alice')
 * ```
 */
export function startEmulator({
  env = process.env,
  port = 0,
  hostname = '127.0.0.1',
}: {
  env?: NodeEmulatorEnv
  port?: number
  hostname?: string
} = {}): Promise<RunningEmulator> {
  return listen(nodeEmulator(env), { port, hostname })
}
