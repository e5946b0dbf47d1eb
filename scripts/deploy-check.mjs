// `npm run deploy` runs this first: it refuses to deploy wrangler.toml's
// placeholders (the example domain, the zero KV namespace and D1 ids, the sample
// AppID), and what wxa-auth cannot run with (a compatibility_date before JS
// RPC, UserSessions without SQLite storage), saying what to replace. It reads
// wrangler.toml with wrangler's own reader, the environment applied as
// `wrangler deploy --env <name>` would.
import { fileURLToPath } from 'node:url'

/** The placeholders wrangler.toml ships with, and what replaces each. */
export const PLACEHOLDERS = {
  domain: /(^|\.)example\.(com|org|net)$/,
  kvId: /^0+$/,
  d1Id: /^[0-]+$/,
  appId: 'wx0123456789abcdef',
}
export const MIN_COMPATIBILITY_DATE = '2024-04-03' // JS RPC to the session objects

/**
 * What is wrong with a wrangler configuration for a deploy, one line each;
 * empty when it may deploy.
 *
 * @param {{ name?: string, routes?: unknown[], route?: unknown, vars?: Record<string, unknown>,
 *   kv_namespaces?: { binding: string, id?: string }[], compatibility_date?: string,
 *   d1_databases?: { binding: string, database_id?: string, database_name?: string }[],
 *   migrations?: { new_sqlite_classes?: string[], new_classes?: string[] }[] }} config
 * @param {string} where how to name the section, e.g. `[env.production]`
 * @returns {string[]}
 */
export function deployProblems(config, where) {
  const problems = []
  const routes = [...(config.routes ?? []), ...(config.route ? [config.route] : [])]
  for (const route of routes) {
    const pattern =
      typeof route === 'string' ? route : /** @type {{ pattern?: string }} */ (route).pattern
    const host =
      String(pattern ?? '')
        .split('/')[0]
        ?.replace(/^\*\.?/, '') ?? ''
    if (PLACEHOLDERS.domain.test(host)) {
      problems.push(
        `${where} routes: ${host} is the example domain. Put your own hostname there (its zone on your Cloudflare account).`,
      )
    }
  }
  for (const { binding, id } of config.kv_namespaces ?? []) {
    if (!id || PLACEHOLDERS.kvId.test(id)) {
      problems.push(
        `${where} kv_namespaces ${binding}: the id is a placeholder. Put the id that \`npx wrangler kv namespace create ${binding}\` prints there.`,
      )
    }
  }
  for (const { binding, database_id: id, database_name: name } of config.d1_databases ?? []) {
    if (!id || PLACEHOLDERS.d1Id.test(id)) {
      problems.push(
        `${where} d1_databases ${binding}: the database_id is a placeholder. Put the id that \`npx wrangler d1 create ${name ?? 'wxa-auth'}\` prints there.`,
      )
    }
  }
  const appIds = String(config.vars?.WECHAT_APP_ID ?? '')
    .split(/\s+/)
    .filter(Boolean)
  if (appIds.length === 0) {
    problems.push(`${where} vars: WECHAT_APP_ID is empty. Put your mini program's AppID there.`)
  } else if (appIds.includes(PLACEHOLDERS.appId)) {
    problems.push(
      `${where} vars: WECHAT_APP_ID ${PLACEHOLDERS.appId} is the sample AppID. Put your mini program's AppID there (mini program admin: 开发管理 → 开发设置).`,
    )
  }
  if (!config.compatibility_date || config.compatibility_date < MIN_COMPATIBILITY_DATE) {
    problems.push(
      `compatibility_date ${config.compatibility_date ?? '(none)'}: wxa-auth needs ${MIN_COMPATIBILITY_DATE} or later.`,
    )
  }
  const migrations = config.migrations ?? []
  if (migrations.some((m) => m.new_classes?.includes('UserSessions'))) {
    problems.push(
      `${where} migrations: UserSessions is in new_classes (KV storage); wxa-auth needs new_sqlite_classes.`,
    )
  } else if (!migrations.some((m) => m.new_sqlite_classes?.includes('UserSessions'))) {
    problems.push(`${where} migrations: no new_sqlite_classes = ["UserSessions"].`)
  }
  return problems
}

/**
 * Reads `configPath` for `env` as wrangler deploys it, and checks it.
 * @param {{ configPath?: string, env?: string }} [options]
 */
export async function checkDeploy({ configPath = 'wrangler.toml', env } = {}) {
  const { unstable_readConfig } = await import('wrangler')
  const config = unstable_readConfig({ config: configPath, ...(env ? { env } : {}) })
  return deployProblems(
    /** @type {Parameters<typeof deployProblems>[0]} */ (config),
    env ? `[env.${env}]` : 'the top level',
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--env')
  const env = at >= 0 ? process.argv[at + 1] : undefined
  const problems = await checkDeploy({ ...(env ? { env } : {}) })
  if (problems.length) {
    console.error(
      `wxa-auth: not deploying ${env ? `--env ${env}` : 'the top level'}: wrangler.toml still has what must be replaced.\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee the docs, "Deploy" (docs/en/operations/deploy.md).`,
    )
    process.exit(1)
  }
  console.log(`wxa-auth: wrangler.toml ${env ? `[env.${env}]` : ''} has no placeholders left.`)
}
