// Installing wxa-auth before it is on npm, as a user does: from a fresh clone
// of this repository, a new Hono Worker project installs the package from the
// clone's path (`npm install --install-links ../wxa-auth`) and, in another
// project, from a git URL of it (a bare repository here stands in for GitHub:
// `npm install git+file://…/wxa-auth.git#<commit>`). Both run `prepare`,
// which builds dist. Each project holds the docs' Hono snippet as printed
// (its declared `db` given a body), type-checks it (tsc), builds it as
// `wrangler deploy` would, and runs the bundle in Miniflare: a login (WeChat
// answered by Miniflare's outbound service), then /orders. Part of `.ci/run`
// (`npm run test:install`). It installs the commit at HEAD: commit first.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { tsBlocks } from './readme-blocks.mjs'
import { run, tested } from './wrangler.mjs'

/**
 * Runs `step` and prints how long it took.
 * @template T
 * @param {string} what
 * @param {() => Promise<T>} step
 * @returns {Promise<T>}
 */
async function timed(what, step) {
  const started = Date.now()
  const result = await step()
  console.log(`install: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
  return result
}

const root = process.cwd()
const own = JSON.parse(readFileSync('package.json', 'utf8'))
const dev = own.devDependencies

/** The docs pages the project is made from. */
const HONO_PAGE = 'docs/en/guide/hono.md'
const INSTALL_PAGE = 'docs/en/guide/install.md'
const TESTING_PAGE = 'docs/en/testing/your-app.md'
const TESTING_HEADING = '# Test your app with `wxa-auth/testing`'

/** The docs' Hono snippet: the first block of "Use it in your Hono app", its `db` given a body. */
function honoSnippet() {
  const [block] = tsBlocks(readFileSync(HONO_PAGE, 'utf8'))
  const declared = /declare function db\(env: Bindings\): \{[^}]*\}\n/
  if (!block || !declared.test(block.body)) throw new Error(`${HONO_PAGE}: no Hono snippet with db`)
  return block.body.replace(
    declared,
    `// The test's user store, in memory, in place of the docs' declaration.
const users = new Map<string, MyUser>()
const db = (_env: Bindings) => ({
  upsertUser: async (openid: string): Promise<MyUser> =>
    users.get(openid) ?? users.set(openid, { id: \`u-\${users.size + 1}\`, role: 'member' }).get(openid)!,
  saveProfile: async (_id: string, _info: Record<string, unknown>) => {},
  setPhone: async (_id: string, _phone: string) => {},
})
`,
  )
}

/**
 * The fenced blocks of `lang` in the section under `heading` of the docs page `file`.
 * @param {string} file
 * @param {string} heading
 * @param {string} lang
 */
function blocksUnder(file, heading, lang) {
  const level = heading.indexOf(' ')
  /** @type {string[]} */
  const blocks = []
  let inside = false
  /** @type {{ keep: boolean, lines: string[] } | null} the fence being read */
  let fence = null
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (fence) {
      if (line !== '```') fence.lines.push(line)
      else {
        if (fence.keep) blocks.push(fence.lines.join('\n'))
        fence = null
      }
    } else if (line.startsWith('```'))
      fence = { keep: inside && line === `\`\`\`${lang}`, lines: [] }
    else if (line === heading) inside = true
    else if (/^#+ /.test(line) && line.indexOf(' ') <= level) inside = false
  }
  return blocks
}

/** wrangler.toml as the docs build it: Install's, then the dev environment of "Test your app". */
function wranglerToml() {
  const [install] = blocksUnder(INSTALL_PAGE, '# Install', 'toml')
  const dev = blocksUnder(TESTING_PAGE, TESTING_HEADING, 'toml').find((block) =>
    block.startsWith('[env.dev]'),
  )
  if (!install || !dev) throw new Error('docs: no wrangler.toml blocks under Install and Test')
  return `name = "hono-app"\n${install}\n${dev}`
}

/** The dev entry of "Test your app with `wxa-auth/testing`", as printed. */
function devEntry() {
  const block = blocksUnder(TESTING_PAGE, TESTING_HEADING, 'ts').find((body) =>
    body.startsWith('// src/dev.ts'),
  )
  if (!block) throw new Error(`${TESTING_PAGE}: no src/dev.ts block`)
  return block
}

const TSCONFIG = {
  compilerOptions: {
    target: 'es2024',
    module: 'es2022',
    moduleResolution: 'bundler',
    lib: ['es2024'],
    types: ['@cloudflare/workers-types'],
    strict: true,
    isolatedModules: true,
    verbatimModuleSyntax: true,
    noEmit: true,
  },
  include: ['src'],
}

/**
 * A new Hono Worker project in `dir` with wxa-auth from `source`; type-checks,
 * builds and logs in.
 * @param {string} dir
 * @param {string[]} install what `npm install` gets for wxa-auth
 */
async function project(dir, install) {
  mkdirSync(join(dir, 'src'), { recursive: true })
  const pkg = {
    name: 'hono-app',
    private: true,
    type: 'module',
    dependencies: { hono: own.peerDependencies.hono },
    devDependencies: {
      '@cloudflare/workers-types': tested('@cloudflare/workers-types'),
      typescript: dev.typescript,
      wrangler: tested('wrangler'),
    },
    allowScripts: { workerd: true, esbuild: true, 'wxa-auth': true },
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2))
  writeFileSync(join(dir, 'wrangler.toml'), wranglerToml())
  writeFileSync(join(dir, 'src/index.ts'), honoSnippet())
  writeFileSync(join(dir, 'src/dev.ts'), devEntry())
  await timed(`npm install ${install.join(' ')}`, () =>
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...install], {
      cwd: dir,
    }),
  )
  const got = JSON.parse(readFileSync(join(dir, 'node_modules/wxa-auth/package.json'), 'utf8'))
  if (got.version !== own.version) throw new Error(`installed wxa-auth ${got.version}`)
  await timed('tsc', () => run(join(dir, 'node_modules/.bin/tsc'), ['-p', dir], { cwd: dir }))
  // Both environments build, and wrangler warns of nothing (a binding that [env.dev] lacks, …).
  for (const env of [[], ['--env', 'dev']]) {
    const args = ['deploy', '--dry-run', '--outdir', env.length ? 'build-dev' : 'build', ...env]
    const out = await timed(`wrangler ${args.join(' ')}`, () =>
      run(join(dir, 'node_modules/.bin/wrangler'), args, { cwd: dir, stderr: true }),
    )
    // (Bar the reminder that a plain deploy picks the top level among several environments.)
    const warned = out.replace(/^.*Multiple environments are defined.*$/m, '')
    if (/warn|▲/i.test(warned)) throw new Error(`wrangler ${args.join(' ')} warns:\n${out}`)
  }
  const secret = () => randomBytes(32).toString('base64url')
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(dir, 'build/index.js'),
    modulesRoot: join(dir, 'build'),
    compatibilityDate: '2026-07-30',
    kvNamespaces: ['SESSIONS'],
    d1Databases: ['DB'],
    durableObjects: { USER_SESSIONS: { className: 'UserSessions', useSQLite: true } },
    bindings: {
      WECHAT_APP_ID: 'wx0123456789abcdef',
      WECHAT_APP_SECRET: randomBytes(16).toString('hex'),
      JWT_SECRET: secret(),
      STORAGE_SECRET: secret(),
    },
    // WeChat's jscode2session, answered here: the test is of the package and the snippet.
    outboundService: (/** @type {Request} */ request) => {
      const url = new URL(request.url)
      if (url.pathname !== '/sns/jscode2session') return new Response('not here', { status: 404 })
      const code = url.searchParams.get('js_code')
      return Response.json({
        openid: `o-${code}`,
        session_key: randomBytes(16).toString('base64'),
      })
    },
  })
  try {
    const refused = await mf.dispatchFetch('http://app.test/orders')
    const body = /** @type {{ error?: { code?: string } }} */ (await refused.json())
    if (refused.status !== 401 || body.error?.code !== 'AUTH_REQUIRED') {
      throw new Error(`/orders without a token: ${refused.status} ${JSON.stringify(body)}`)
    }
    const login = await mf.dispatchFetch('http://app.test/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'a-code-from-wx-login' }),
    })
    const session = /** @type {{ token?: string }} */ (await login.json())
    if (login.status !== 200 || !session.token) {
      throw new Error(`login: ${login.status} ${JSON.stringify(session)}`)
    }
    const orders = await mf.dispatchFetch('http://app.test/orders', {
      headers: { authorization: `JWT ${session.token}` },
    })
    const answer = /** @type {{ role?: string, cart?: unknown[] }} */ (await orders.json())
    if (orders.status !== 200 || answer.role !== 'member' || !Array.isArray(answer.cart)) {
      throw new Error(`/orders: ${orders.status} ${JSON.stringify(answer)}`)
    }
  } finally {
    await mf.dispose()
  }
  console.log('install: the docs’ Hono snippet type-checks, builds, logs in and serves /orders')
}

const temp = mkdtempSync(join(tmpdir(), 'wxa-auth-install-'))
let failed = 0
try {
  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
  const clone = join(temp, 'wxa-auth')
  await run('git', ['clone', '--quiet', '--no-local', root, clone], { cwd: temp })
  // `npm ci` in the clone: prepare builds dist (timed: it is what `npm ci` pays for it).
  await timed('npm ci in a fresh clone (prepare builds dist)', () =>
    run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone }),
  )
  const bare = join(temp, 'wxa-auth.git')
  await run('git', ['clone', '--quiet', '--bare', root, bare], { cwd: temp })
  /** @type {[string, string[]][]} */
  const sources = [
    ['the clone’s path', ['--install-links', clone]],
    ['a git URL', [`git+file://${bare}#${commit}`]],
  ]
  for (const [what, install] of sources) {
    try {
      await project(join(temp, `app-${what.replace(/\W+/g, '-')}`), install)
      console.log(`install: from ${what}: passed`)
    } catch (error) {
      failed++
      console.error(`install: from ${what}: ${error instanceof Error ? error.message : error}`)
    }
  }
} catch (error) {
  failed++
  console.error(error instanceof Error ? error.message : error)
} finally {
  rmSync(temp, { recursive: true, force: true, maxRetries: 3 })
}
console.log(`install: ${failed ? 'failed' : 'passed'}`)
process.exitCode = failed ? 1 : 0
