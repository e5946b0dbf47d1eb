// Starts `npm run dev` (scripts/dev.mjs) on a free port and waits until the
// Worker answers /healthz. Used by the README walkthrough and by the client
// SDK tests, which both drive the real Worker with the WeChat emulator.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'

export const DEFAULT_START_TIMEOUT = 60_000 // ms

/** @returns {Promise<number>} a TCP port that was free a moment ago */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
      server.close(() => resolve(port))
    })
  })
}

/**
 * Runs the dev Worker in its own process group and resolves once it is up.
 * The port goes in as `PORT`, or with `flags` as a user types it:
 * `npm run dev -- --port N --inspector-port M` (and then the inspector must
 * answer on M too).
 *
 * `args` go to wrangler too (`--var CORS_ORIGINS:…`); a function of `base`
 * makes them once the port is known (`--var WECHAT_REDIRECT_URIS:<base>/`).
 *
 * @param {{ timeoutMs?: number, flags?: boolean, args?: string[] | ((base: string) => string[]) }} [options]
 * @returns {Promise<{ base: string, log: () => string, stop: () => void }>}
 *   `base` is `http://127.0.0.1:<port>`; `log()` is everything wrangler
 *   printed so far; `stop()` ends wrangler and its children.
 */
export async function startDevServer({
  timeoutMs = DEFAULT_START_TIMEOUT,
  flags = false,
  args = [],
} = {}) {
  const port = await freePort()
  const inspector = flags ? await freePort() : undefined
  const base = `http://127.0.0.1:${port}`
  const { PORT: _, ...inherited } = process.env
  const dev = spawn(
    'node',
    [
      'scripts/dev.mjs',
      ...(flags ? ['--port', String(port), '--inspector-port', String(inspector)] : []),
      ...(typeof args === 'function' ? args(base) : args),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: flags ? inherited : { ...inherited, PORT: String(port) },
    },
  )
  let log = ''
  dev.stdout.on('data', (chunk) => (log += chunk))
  dev.stderr.on('data', (chunk) => (log += chunk))
  const stop = () => {
    try {
      // The whole group: wrangler starts workerd as a child of its own.
      process.kill(-(dev.pid ?? 0), 'SIGTERM')
    } catch {}
  }

  try {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) break
      } catch {}
      if (dev.exitCode !== null || Date.now() > deadline) {
        throw new Error(`wrangler dev did not start:\n${log}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    if (inspector !== undefined) {
      const version = await fetch(`http://127.0.0.1:${inspector}/json/version`).catch(() => null)
      if (!version?.ok) throw new Error(`no inspector on --inspector-port ${inspector}:\n${log}`)
    }
  } catch (error) {
    stop()
    throw error
  }
  return { base, log: () => log, stop }
}
