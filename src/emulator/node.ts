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
 * `POST /__emulator/events`, which builds a push and delivers it to
 * `APP_URL` (answering `{ status, answer }`), and `POST /__emulator/media-checks`,
 * which fetches the avatars under check from `APP_URL` and pushes the verdicts.
 */
export function nodeEmulator(env: NodeEmulatorEnv = {}): Hono {
  const app = emulatorApp(memoryStorage(), env)
  const target = () => env.APP_URL?.trim()
  const noTarget = { error: 'APP_URL is not set: where should the push go?' }
  /** `push` delivered to the app's /wechat/events, as WeChat delivers it. */
  const deliver = (push: BuiltPush, to: string) =>
    fetch(new URL(`/wechat/events?${push.query}`, to), {
      method: 'POST',
      headers: { 'Content-Type': push.contentType },
      body: push.body,
    })
  const json = (path: string, body?: unknown) =>
    app.request(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })

  app.post('/__emulator/events', async (c) => {
    const to = target()
    if (!to) return c.json(noTarget, 409)
    const input: Record<string, unknown> = await c.req
      .json<Record<string, unknown>>()
      .catch(() => ({}))
    // As WeChat sends them to the app: encrypted once it has an EncodingAESKey.
    const mode = input.mode ?? (env.WECHAT_EVENT_AES_KEY ? 'safe' : 'plain')
    const built = await json('/__emulator/push', { ...input, mode })
    if (!built.ok) return built
    const delivered = await deliver((await built.json()) as BuiltPush, to)
    return c.json({ status: delivered.status, answer: await delivered.text() })
  })

  // An image check: the app's avatar fetched from APP_URL, judged, the verdict pushed back.
  app.post('/__emulator/media-checks', async (c) => {
    const to = target()
    if (!to) return c.json(noTarget, 409)
    const { checks } = (await (await json('/__emulator/media-checks')).json()) as {
      checks: { trace: string; mediaUrl: string }[]
    }
    const delivered = []
    for (const { trace, mediaUrl } of checks) {
      const image = await fetch(new URL(new URL(mediaUrl).pathname, to))
      const bytes = image.ok ? new Uint8Array(await image.arrayBuffer()) : new Uint8Array()
      const judged = await json(`/__emulator/media-checks/${trace}`, {
        bytes: Buffer.from(bytes).toString('base64'),
      })
      const { suggest, push } = (await judged.json()) as { suggest: string; push: BuiltPush }
      const answer = await deliver(push, to)
      delivered.push({ trace, suggest, status: answer.status, answer: await answer.text() })
    }
    return c.json({ delivered })
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

export const DEFAULT_EMULATOR_PORT = 8788

/**
 * The emulator as a process of its own, as `npx wxa-auth-emulator` (and
 * `node examples/node/emulator.mjs`) runs it: on `PORT` (default 8788) and
 * `HOST` (default 127.0.0.1), configured from the environment
 * (`WECHAT_APP_ID`, `WECHAT_APP_SECRET`, `WECHAT_EVENT_TOKEN`,
 * `WECHAT_EVENT_AES_KEY`, `APP_URL`), closed on SIGTERM and SIGINT.
 */
export async function runEmulator(
  env: NodeEmulatorEnv & { PORT?: string; HOST?: string } = process.env,
): Promise<RunningEmulator> {
  const emulator = await startEmulator({
    env,
    port: Number(env.PORT || DEFAULT_EMULATOR_PORT),
    hostname: env.HOST || '127.0.0.1',
  })
  console.log(`wxa-auth emulator: listening on ${emulator.url}`)
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void emulator.close().finally(() => process.exit(0)))
  }
  return emulator
}
