// `npm run dev`: the Worker on http://127.0.0.1:8787 against the WeChat emulator.
// Writes .dev.vars with a fresh JWT secret on first run (git-ignored; see
// .dev.vars.example) and keeps wrangler from calling Cloudflare: no telemetry,
// no download of the `Request.cf` object.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'

if (!existsSync('.dev.vars')) {
  writeFileSync(
    '.dev.vars',
    [
      '# Made by `npm run dev` for local development. Git ignores it; never commit it.',
      `JWT_SECRET=${randomBytes(32).toString('base64url')}`,
      '# With a real AppSecret here, `npm run dev` talks to WeChat instead of the emulator:',
      '# WECHAT_APP_ID=wx...',
      '# WECHAT_APP_SECRET=...',
      '',
    ].join('\n'),
  )
  console.log('wxa-auth: wrote .dev.vars with a fresh JWT_SECRET.')
}

export const quietWranglerEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
}

const port = process.env.PORT || '8787'
const args = ['dev', '--env', 'dev', '--ip', '127.0.0.1', '--port', port, ...process.argv.slice(2)]
const child = spawn('wrangler', args, { stdio: 'inherit', env: quietWranglerEnv })
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => child.kill(signal))
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
