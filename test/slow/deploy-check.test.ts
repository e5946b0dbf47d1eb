// `npm run deploy` refuses wrangler.toml's placeholders, and a plain
// `wrangler deploy` (the top level) is another Worker than production.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkDeploy, deployProblems } from '../../scripts/deploy-check.mjs'

const toml = readFileSync('wrangler.toml', 'utf8')

/** wrangler.toml with production's placeholders replaced, as a user fills them in. */
function filledIn() {
  const dir = mkdtempSync(join(tmpdir(), 'wxa-deploy-'))
  const path = join(dir, 'wrangler.toml')
  const [top = '', production = ''] = toml.split(/^\[env\.production\]$/m)
  const own = production
    .replace('auth.example.com', 'auth.shop.cn')
    .replace('wx0123456789abcdef', 'wx5f3a9c2e7b1d4068')
    .replace('00000000000000000000000000000000', '8d9e0f1a2b3c4d5e6f708192a3b4c5d6')
    .replace('00000000-0000-0000-0000-000000000000', '3f1c2b7e-9a4d-4e21-8c55-0d6e7f8a9b10')
  // The entries it names exist only in the repo.
  writeFileSync(path, `${top.replaceAll('src/', `${process.cwd()}/src/`)}[env.production]${own}`)
  return path
}

describe('npm run deploy', () => {
  it("refuses production's placeholders, saying what replaces each", async () => {
    const problems = await checkDeploy({ env: 'production' })
    expect(problems).toHaveLength(4)
    expect(problems[0]).toMatch(/auth\.example\.com is the example domain\. Put your own hostname/)
    expect(problems[1]).toMatch(
      /SESSIONS: the id is a placeholder.*wrangler kv namespace create SESSIONS/,
    )
    expect(problems[2]).toMatch(
      /d1_databases DB: the database_id is a placeholder.*wrangler d1 create wxa-auth/,
    )
    expect(problems[3]).toMatch(/wx0123456789abcdef is the sample AppID.*开发管理 → 开发设置/)
  })

  it('deploys a filled-in wrangler.toml', async () => {
    expect(await checkDeploy({ configPath: filledIn(), env: 'production' })).toEqual([])
  })

  it('refuses what wxa-auth cannot run with: an old date, KV-backed session objects', () => {
    const config = {
      vars: { WECHAT_APP_ID: 'wx5f3a9c2e7b1d4068' },
      compatibility_date: '2024-01-01',
      migrations: [{ new_classes: ['UserSessions'] }],
    }
    expect(deployProblems(config, '[env.x]')).toEqual([
      'compatibility_date 2024-01-01: wxa-auth needs 2024-04-03 or later.',
      '[env.x] migrations: UserSessions is in new_classes (KV storage); wxa-auth needs new_sqlite_classes.',
    ])
  })

  it('is what npm run deploy runs before wrangler, which it does not start', () => {
    const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts
    expect(scripts.deploy).toMatch(/^node scripts\/deploy-check\.mjs --env production && /)
    const run = spawnSync(process.execPath, ['scripts/deploy-check.mjs', '--env', 'production'], {
      encoding: 'utf8',
    })
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('not deploying --env production')
    expect(run.stderr).toContain('auth.example.com')
  })
})

describe('a plain wrangler deploy', () => {
  it('deploys the top level under another name than production', () => {
    const names = [...toml.matchAll(/^name = "([^"]+)"$/gm)].map((match) => match[1])
    const [top] = names
    const production = /^\[env\.production\]\nname = "([^"]+)"$/m.exec(toml)?.[1]
    expect(production).toBe('wxa-auth')
    expect(top).not.toBe(production)
  })
})
