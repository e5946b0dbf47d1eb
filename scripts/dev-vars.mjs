// Before `npm run dev`: make .dev.vars with a fresh JWT secret if there is none,
// so a new clone runs against the WeChat emulator with no setup. The file is
// git-ignored; .dev.vars.example documents every variable.
import { randomBytes } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'

if (!existsSync('.dev.vars')) {
  writeFileSync(
    '.dev.vars',
    [
      '# Made by scripts/dev-vars.mjs for local development. Never commit it.',
      `JWT_SECRET=${randomBytes(32).toString('base64url')}`,
      '# With a real AppSecret here, `npm run dev` talks to WeChat instead of the emulator:',
      '# WECHAT_APP_ID=wx...',
      '# WECHAT_APP_SECRET=...',
      '',
    ].join('\n'),
  )
  console.log('wxa-auth: wrote .dev.vars with a fresh JWT_SECRET (git-ignored).')
}
