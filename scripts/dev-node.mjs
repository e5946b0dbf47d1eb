// `npm run dev:node`: wxa-auth on Node, a first try: the WeChat emulator
// (examples/node/emulator.mjs) and the server (examples/node/server.mjs)
// together, sessions in the server's memory (no REDIS_URL; set one to use
// Redis). Secrets are made for this run. Ctrl-C stops both.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'

const port = Number(process.env.PORT || 8787)
const emulatorPort = Number(process.env.EMULATOR_PORT || port + 1)
const app = `http://127.0.0.1:${port}`
const emulator = `http://127.0.0.1:${emulatorPort}`
const shared = {
  WECHAT_APP_ID: process.env.WECHAT_APP_ID || 'wx00000000emulator',
  WECHAT_APP_SECRET: randomBytes(16).toString('hex'),
  WECHAT_EVENT_TOKEN: randomBytes(16).toString('hex'),
}

/** @param {string} script @param {Record<string, string>} env */
function start(script, env) {
  const child = spawn(process.execPath, [script], {
    stdio: 'inherit',
    env: { ...process.env, ...shared, HOST: '127.0.0.1', ...env },
  })
  child.on('exit', (code) => {
    stop()
    process.exitCode = code ?? 1
  })
  return child
}

const children = [
  start('examples/node/emulator.mjs', { PORT: String(emulatorPort), APP_URL: app }),
  start('examples/node/server.mjs', {
    PORT: String(port),
    WECHAT_API_BASE: emulator,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    STORAGE_SECRET: randomBytes(32).toString('base64url'),
  }),
]

function stop() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
}
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, stop)

console.log(`wxa-auth dev:node: the app on ${app}, the WeChat emulator on ${emulator}. Try:
  code=$(curl -s -X POST ${emulator}/__emulator/code -H 'content-type: application/json' -d '{"openid":"alice"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).code')
  curl -s -X POST ${app}/auth/login -H 'content-type: application/json' -d "{\\"code\\":\\"$code\\"}"`)
