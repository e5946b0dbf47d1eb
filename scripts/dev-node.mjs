// `npm run dev:node`: wxa-auth on Node, a first try: the WeChat emulator
// (examples/node/emulator.mjs) and the server (examples/node/server.mjs)
// together, sessions in the server's memory (no REDIS_URL; set one to use
// Redis). The secrets are made on the first run and kept in `.dev.vars.node`
// (git-ignored, as `.dev.vars` on Workers), so that with Redis the sessions
// outlive a restart. Ctrl-C stops both.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const SECRETS_FILE = '.dev.vars.node' // in the working directory, git-ignored
const port = Number(process.env.PORT || 8787)
const emulatorPort = Number(process.env.EMULATOR_PORT || port + 1)
const app = `http://127.0.0.1:${port}`
const emulator = `http://127.0.0.1:${emulatorPort}`

/** The secrets of earlier runs, or new ones written down for the next. */
function devSecrets() {
  /** @type {Record<string, string>} */
  const kept = {}
  if (existsSync(SECRETS_FILE)) {
    for (const line of readFileSync(SECRETS_FILE, 'utf8').split('\n')) {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim())
      if (match) kept[match[1]] = match[2]
    }
  }
  /** @type {Record<string, () => string>} */
  const made = {
    WECHAT_APP_SECRET: () => randomBytes(16).toString('hex'),
    WECHAT_EVENT_TOKEN: () => randomBytes(16).toString('hex'),
    JWT_SECRET: () => randomBytes(32).toString('base64url'),
    STORAGE_SECRET: () => randomBytes(32).toString('base64url'),
  }
  const missing = Object.keys(made).filter((name) => !kept[name])
  for (const name of missing) kept[name] = made[name]()
  if (missing.length) {
    writeFileSync(
      SECRETS_FILE,
      `# npm run dev:node: secrets for development only, made here and kept (git-ignored).\n${Object.entries(
        kept,
      )
        .map(([name, value]) => `${name}=${value}`)
        .join('\n')}\n`,
      { mode: 0o600 },
    )
  }
  return kept
}

const secrets = devSecrets()
const shared = {
  WECHAT_APP_ID: process.env.WECHAT_APP_ID || 'wx00000000emulator',
  WECHAT_APP_SECRET: secrets.WECHAT_APP_SECRET,
  WECHAT_EVENT_TOKEN: secrets.WECHAT_EVENT_TOKEN,
}

/** @param {string} script @param {Record<string, string>} env */
function start(script, env) {
  const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], {
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
  start('../examples/node/emulator.mjs', { PORT: String(emulatorPort), APP_URL: app }),
  start('../examples/node/server.mjs', {
    PORT: String(port),
    WECHAT_API_BASE: emulator,
    JWT_SECRET: secrets.JWT_SECRET,
    STORAGE_SECRET: secrets.STORAGE_SECRET,
  }),
]

function stop() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
}
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, stop)

console.log(`wxa-auth dev:node: the app on ${app}, the WeChat emulator on ${emulator} (secrets in ${SECRETS_FILE}). Try:
  code=$(curl -s -X POST ${emulator}/__emulator/code -H 'content-type: application/json' -d '{"openid":"alice"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).code')
  curl -s -X POST ${app}/auth/login -H 'content-type: application/json' -d "{\\"code\\":\\"$code\\"}"`)
