// `npm run dev`: the Worker on http://127.0.0.1:8787 against the WeChat emulator.
// Writes .dev.vars with fresh secrets on first run (git-ignored; see
// .dev.vars.example).
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { wrangler } from './wrangler.mjs'

// Secrets made on first run; an older .dev.vars gets the ones it lacks.
const secrets = ['JWT_SECRET', 'STORAGE_SECRET']
const existing = existsSync('.dev.vars') ? readFileSync('.dev.vars', 'utf8') : null
const missing = secrets.filter((name) => !new RegExp(`^${name}=`, 'm').test(existing ?? ''))
if (missing.length) {
  const lines = missing.map((name) => `${name}=${randomBytes(32).toString('base64url')}`)
  const header = [
    '# Made by `npm run dev` for local development. Git ignores it; never commit it.',
    '# See .dev.vars.example. With a real AppSecret here, `npm run dev` talks to WeChat:',
    '# WECHAT_APP_ID=wx...',
    '# WECHAT_APP_SECRET=...',
  ]
  const text = existing === null ? [...header, ...lines, ''] : [existing.trimEnd(), ...lines, '']
  writeFileSync('.dev.vars', text.join('\n'))
  console.log(`wxa-auth: wrote ${missing.join(' and ')} to .dev.vars.`)
}

const port = process.env.PORT || '8787'
const args = ['dev', '--env', 'dev', '--ip', '127.0.0.1', '--port', port, ...process.argv.slice(2)]
process.exit(await wrangler(args))
