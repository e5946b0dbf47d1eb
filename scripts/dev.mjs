// `npm run dev`: the Worker on http://127.0.0.1:8787 against the WeChat emulator;
// another port with `npm run dev -- --port N` or `PORT=N npm run dev`.
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

/**
 * `flag value` unless the user's `args` set the flag (`--port 9000`, `--port=9000`):
 * wrangler refuses a flag given twice.
 * @param {string[]} args
 * @param {string} flag
 * @param {string} value
 */
const unlessGiven = (args, flag, value) =>
  args.some((arg) => arg === flag || arg.startsWith(`${flag}=`)) ? [] : [flag, value]

// `npm run dev -- --port 9000 --inspector-port 9230` (or PORT=9000): the user's
// flags go to wrangler as they are; ours only fill in what they leave out.
const given = process.argv.slice(2)
const args = [
  'dev',
  ...unlessGiven(given, '--env', 'dev'),
  ...unlessGiven(given, '--ip', '127.0.0.1'),
  ...unlessGiven(given, '--port', process.env.PORT || '8787'),
  ...given,
]
process.exit(await wrangler(args))
