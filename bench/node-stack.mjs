// The Node side of the benches: the WeChat emulator as a Node server (for
// the Node app and for the Worker alike, so that WeChat's work is in neither
// server's CPU), redis-server, and wxa-auth's own Node server on it. They run
// the built package: `npm run build:lib` first.
import { existsSync } from 'node:fs'
import { delimiter } from 'node:path'
import { freePort, start } from './proc.mjs'

/** Whether redis-server is on the PATH, and where. */
export function redisServer() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(`${dir}/redis-server`)) return `${dir}/redis-server`
  }
  return null
}

/** The emulator playing WeChat for `appId` (with `secret`); its URL and its process. */
export async function startEmulator({ appId, secret }) {
  const port = await freePort()
  const child = await start(process.execPath, ['examples/node/emulator.mjs'], {
    env: { PORT: String(port), WECHAT_APP_ID: appId, WECHAT_APP_SECRET: secret },
    ready: /listening/,
  })
  return { url: `http://127.0.0.1:${port}`, pid: child.pid }
}

/** redis-server as production would run it (AOF, fsync every second), its data in `dir`. */
export async function startRedis(dir) {
  const port = await freePort()
  const child = await start(
    redisServer() ?? 'redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1'],
      ...['--save', '', '--appendonly', 'yes', '--dir', dir],
    ],
    { ready: /Ready to accept connections/ },
  )
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid }
}

/** wxa-auth's Node server (examples/node/server.mjs) on Redis, WeChat being the emulator. */
export async function startNodeServer({
  redisUrl,
  emulatorUrl,
  appId,
  secret,
  jwtSecret,
  storageSecret,
}) {
  const port = await freePort()
  const child = await start(process.execPath, ['examples/node/server.mjs'], {
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      WECHAT_APP_ID: appId,
      WECHAT_APP_SECRET: secret,
      WECHAT_API_BASE: emulatorUrl,
      JWT_SECRET: jwtSecret,
      STORAGE_SECRET: storageSecret,
      LOGIN_RATE_LIMIT: '0',
    },
    ready: /listening/,
  })
  return { url: `http://127.0.0.1:${port}`, pid: child.pid }
}
