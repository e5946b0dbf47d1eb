// The package as a user gets it: `npm pack`, then examples/hono-worker copied
// to a temporary folder with the tarball installed from there (its other
// dependencies from the registry), type-checked, built as `wrangler deploy`
// would, served by `wrangler dev` with the WeChat emulator, and logged in to by
// its own tests (`node --test`). Every TypeScript block of both READMEs and of
// the docs site's pages is compiled there as printed (scripts/readme-blocks.mjs).
// Part of `npm test`; the repo's examples/ stays free of node_modules.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { runInNewContext } from 'node:vm'
import { gzipSync } from 'node:zlib'
import { transformSync } from 'esbuild'
import { freePort } from './dev-server.mjs'
import { CLIENT_TYPES, compileReadmeBlocks } from './readme-blocks.mjs'
import { quietEnv, run, tested } from './wrangler.mjs'

export const START_TIMEOUT = 90_000 // ms, wrangler dev in the example

/** Files the tarball must carry, and folders it must not. */
const REQUIRED = [
  'package.json',
  'README.md',
  'README.zh-CN.md',
  'LICENSE',
  'dist/index.js',
  'dist/index.d.ts',
  'dist/testing.js',
  'dist/testing.d.ts',
  'dist/testing/client.js',
  'dist/node.js',
  'dist/node.d.ts',
  'dist/testing/node.js',
  'dist/emulator.js',
  'dist/client/index.js',
  'dist/client/index.d.ts',
  'dist/client/index.cjs',
  'dist/client/index.d.cts',
  'dist/miniprogram/index.js',
  'dist/miniprogram/client/index.js',
  'dist/web/index.js',
  'dist/web/index.d.ts',
  'dist/web/index.cjs',
  'dist/web/index.d.cts',
]
const FORBIDDEN = /^(src|test|client|scripts|bench|examples|build|\.ci)\/|\.env|\.dev\.vars/

/**
 * A mini program's require(): CommonJS files of `dir` only (relative paths),
 * each run in a context with a `wx` global and no Node globals.
 * @param {string} dir
 * @param {string} file relative to dir
 * @param {object} wx the runtime global
 * @returns {Record<string, any>} its exports
 */
function miniProgramRequire(dir, file, wx) {
  /** @type {Map<string, { exports: Record<string, any> }>} */
  const cache = new Map()
  /** @param {string} path */
  const load = (path) => {
    if (relative(dir, path).startsWith('..')) throw new Error(`${path} is outside ${dir}`)
    const cached = cache.get(path)
    if (cached) return cached.exports
    const module = { exports: {} }
    cache.set(path, module)
    const require = (/** @type {string} */ spec) => {
      if (!spec.startsWith('.')) throw new Error(`${path} requires ${spec}: not in the folder`)
      return load(join(dirname(path), spec.endsWith('.js') ? spec : `${spec}.js`))
    }
    const code = `(function (module, exports, require) {${readFileSync(path, 'utf8')}\n})`
    runInNewContext(code, { wx, console })(module, module.exports, require)
    return module.exports
  }
  return load(join(dir, file))
}

/** The docs page of the `vitest.config.ts` block. */
const TESTING_PAGE = 'docs/en/testing/your-app.md'

/**
 * The docs' `vitest.config.ts` block and the block after it that runs inside workerd.
 * @param {string} text the page TESTING_PAGE
 */
function workerdBlocks(text) {
  const blocks = [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '')
  const at = blocks.findIndex((body) => body.startsWith('// vitest.config.ts'))
  const config = blocks[at]
  const inside = blocks[at + 1]
  if (!config || !inside?.includes("from 'cloudflare:workers'")) {
    throw new Error(
      `${TESTING_PAGE}: no vitest.config.ts block followed by a cloudflare:workers one`,
    )
  }
  return [config, inside]
}

/** @param {number} n bytes */
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`

/**
 * `wrangler dev --env dev` in `cwd` on a free port, up once `/` answers.
 * @param {string} cwd
 */
async function startWorker(cwd) {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const dev = spawn(
    join(cwd, 'node_modules/.bin/wrangler'),
    ['dev', '--env', 'dev', '--ip', '127.0.0.1', '--port', String(port)],
    { cwd, env: quietEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  )
  let log = ''
  dev.stdout.on('data', (chunk) => (log += chunk))
  dev.stderr.on('data', (chunk) => (log += chunk))
  const exited = new Promise((resolve) => dev.once('exit', resolve))
  /** Ends wrangler and workerd (its process group); resolves when they are gone, or after 5 s. */
  const stop = () => {
    try {
      process.kill(-(dev.pid ?? 0), 'SIGTERM')
    } catch {}
    return Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))])
  }
  const deadline = Date.now() + START_TIMEOUT
  for (;;) {
    try {
      if ((await fetch(`${base}/`)).ok) break
    } catch {}
    if (dev.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`wrangler dev did not start in the example:\n${log}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return { base, stop, log: () => log }
}

const root = process.cwd()
const temp = mkdtempSync(join(tmpdir(), 'wxa-auth-pack-'))
/** @type {() => Promise<unknown>} */
let stopWorker = async () => {}
let failed = 0
try {
  // 1. The tarball, from a fresh library build.
  await run('npm', ['run', 'build:lib'])
  const [packed] = JSON.parse(
    await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', temp]),
  )
  const tarball = join(temp, packed.filename)
  const files = packed.files.map((/** @type {{ path: string }} */ file) => file.path)
  const missing = REQUIRED.filter((path) => !files.includes(path))
  const extra = files.filter((/** @type {string} */ path) => FORBIDDEN.test(path))
  if (missing.length || extra.length) {
    throw new Error(
      `tarball: missing ${missing.join(', ') || 'none'}; unwanted ${extra.join(', ')}`,
    )
  }
  console.log(
    `pack: ${packed.filename}, ${kib(packed.size)} packed, ${kib(packed.unpackedSize)} unpacked, ${packed.entryCount} files`,
  )

  // Mini programs run ES2017: esbuild finds nothing to lower in the SDK's builds.
  for (const [file, format] of /** @type {const} */ ([
    ['dist/client/index.js', 'esm'],
    ['dist/client/index.cjs', 'cjs'],
  ])) {
    const code = readFileSync(file, 'utf8')
    const lowered = transformSync(code, { target: 'es2017', format }).code
    if (lowered !== transformSync(code, { target: 'esnext', format }).code) {
      throw new Error(`${file} has syntax newer than ES2017`)
    }
  }

  // WeChat DevTools' "构建 npm" copies the `miniprogram` folder into miniprogram_npm/wxa-auth/,
  // where the pages require() it: loaded here as a mini program does, a `wx` global and no Node.
  await run('tar', ['-xzf', tarball, '-C', temp])
  const unpacked = join(temp, 'package')
  const { miniprogram } = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'))
  /** @type {string[]} */
  const read = []
  const wx = {
    getStorageSync: (/** @type {string} */ key) => {
      read.push(key)
      return ''
    },
    setStorageSync() {},
    removeStorageSync() {},
  }
  const sdk = miniProgramRequire(join(unpacked, miniprogram), 'client/index.js', wx)
  if (typeof sdk.createClient !== 'function' || typeof sdk.wxAdapter !== 'function') {
    throw new Error(`${miniprogram}/client/index.js does not export the SDK`)
  }
  const api = sdk.createClient({ baseUrl: 'https://auth.example.com' })
  if (api.session() !== null || !read.includes('wxa-auth:session')) {
    throw new Error('the SDK did not read its session with wx.getStorageSync')
  }
  console.log(`pack: "miniprogram": "${miniprogram}" loads with require() beside a wx global`)

  // 2. The example, outside the repo, with the tarball as its wxa-auth.
  const app = join(temp, 'hono-worker')
  cpSync(join(root, 'examples/hono-worker'), app, {
    recursive: true,
    filter: (path) => !/[/\\](node_modules|\.wrangler|build)$|\.dev\.vars$/.test(path),
  })
  // wrangler and workers-types at the versions this checkout tested (see `tested`).
  const toolchain = ['wrangler', '@cloudflare/workers-types'].map(
    (name) => `${name}@${tested(name)}`,
  )
  await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, ...toolchain],
    {
      cwd: app,
    },
  )
  const installed = JSON.parse(
    readFileSync(join(app, 'node_modules/wxa-auth/package.json'), 'utf8'),
  )
  if (installed.version !== packed.version) throw new Error('the example did not get the tarball')

  // 3. It type-checks against the published declarations.
  await run(join(app, 'node_modules/.bin/tsc'), ['-p', app], { cwd: app })
  console.log('pack: the example type-checks (tsc)')

  // 3b. So does every ```ts block of both READMEs and the docs pages, as printed; the SDK's with the
  // frameworks' own types, and under moduleResolution "node" on TypeScript 5 too.
  // Not saved: the example's package.json stays as a user has it.
  // The Workers Vitest integration too, for the docs' vitest.config.ts (compiled, then run below).
  const dev = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies
  const vite = JSON.parse(readFileSync(join(root, 'node_modules/vite/package.json'), 'utf8'))
  const vitest = [
    `vitest@${dev.vitest}`,
    `vite@${vite.version}`,
    `@cloudflare/vitest-plugin@${dev['@cloudflare/vitest-plugin']}`,
  ]
  await run('npm', ['install', '--no-save', '--legacy-peer-deps', ...CLIENT_TYPES, ...vitest], {
    cwd: app,
  })
  const blocks = await compileReadmeBlocks(root, app, run)
  console.log(`pack: ${blocks} docs code blocks type-check (tsc, and TypeScript 5 for the SDK's)`)

  // 4. It builds as `wrangler deploy` would, without the emulator.
  await run(join(app, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', 'build'], {
    cwd: app,
  })
  const bundle = readFileSync(join(app, 'build/index.js'))
  if (/class (PlatformEmulator|WeChatEmulator)\b/.test(bundle.toString('utf8'))) {
    throw new Error('the example’s production bundle carries the emulator')
  }
  console.log(
    `pack: the example builds (wrangler deploy --dry-run): ${kib(bundle.length)}, ${kib(gzipSync(bundle).length)} gzip`,
  )

  // 5. It serves logins against the emulator: its own tests, as a user runs them.
  const secret = () => randomBytes(32).toString('base64url')
  writeFileSync(join(app, '.dev.vars'), `JWT_SECRET=${secret()}\nSTORAGE_SECRET=${secret()}\n`)
  const worker = await startWorker(app)
  stopWorker = worker.stop
  const tests = await run('node', ['--test'], { cwd: app, env: { BASE_URL: worker.base } }).catch(
    (error) => {
      throw new Error(`${error.message}\nwrangler dev:\n${worker.log()}`)
    },
  )
  // The spec reporter's `ℹ pass 2` on a terminal-less run, TAP's `# pass 2` otherwise.
  const count = (/** @type {string} */ word) =>
    Number(new RegExp(`^(?:#|ℹ) ${word} (\\d+)$`, 'm').exec(tests)?.[1] ?? -1)
  const passed = count('pass')
  if (passed < 2 || count('fail') !== 0)
    throw new Error(`the example's tests did not all run:\n${tests}`)
  console.log(`pack: the example logs in against the emulator (node --test: ${passed} passed)`)

  // 5b. The docs' vitest.config.ts runs its workerd block as a test, in [env.dev].
  const [config, inside] = workerdBlocks(readFileSync(join(root, TESTING_PAGE), 'utf8'))
  writeFileSync(join(app, 'vitest.config.ts'), config)
  writeFileSync(
    join(app, 'test/readme.workerd.test.ts'),
    `import { expect, it } from 'vitest'\n${inside}\nit('logs in inside workerd', () => expect(res.status).toBe(200))\n`,
  )
  const ran = await run(
    join(app, 'node_modules/.bin/vitest'),
    ['run', 'test/readme.workerd.test.ts'],
    {
      cwd: app,
    },
  )
  if (!/1 passed/.test(ran)) throw new Error(`the docs' vitest.config.ts ran no test:\n${ran}`)
  console.log("pack: the docs' vitest.config.ts runs a test inside workerd, the emulator bound")

  // 6. Plain Node loads the Node entries, without workerd, redis or @hono/node-server installed.
  await run(
    'node',
    [
      '--input-type=module',
      '-e',
      "const n = await import('wxa-auth/node'); const t = await import('wxa-auth/testing/node'); if (typeof n.node !== 'function' || typeof t.startEmulator !== 'function') process.exit(1)",
    ],
    { cwd: app },
  )
  console.log('pack: plain Node imports wxa-auth/node and wxa-auth/testing/node')

  // 7. The emulator that "Testing on Node" runs ships in the package: `npx wxa-auth-emulator`,
  // with @hono/node-server installed as a Node app has it (the server needs it too).
  await run(
    'npm',
    ['install', '--no-save', '--prefer-offline', '--no-audit', '--no-fund', '@hono/node-server'],
    {
      cwd: app,
    },
  )
  const emulatorPort = await freePort()
  const emulator = spawn(join(app, 'node_modules/.bin/wxa-auth-emulator'), [], {
    cwd: app,
    env: { ...quietEnv, PORT: String(emulatorPort), WECHAT_APP_ID: 'wx0123456789abcdef' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let emulatorErrors = ''
  emulator.stderr.on('data', (chunk) => (emulatorErrors += chunk))
  try {
    const deadline = Date.now() + 20_000
    /** @type {{ code?: string }} */
    let issued = {}
    while (!issued.code) {
      if (emulator.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `npx wxa-auth-emulator did not start from the installed package:\n${emulatorErrors}`,
        )
      }
      issued = await fetch(`http://127.0.0.1:${emulatorPort}/__emulator/code`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ openid: 'alice' }),
      })
        .then((res) => res.json())
        .catch(() => new Promise((resolve) => setTimeout(() => resolve({}), 200)))
    }
  } finally {
    emulator.kill('SIGTERM')
  }
  console.log('pack: npx wxa-auth-emulator runs from the installed package and issues codes')
} catch (error) {
  failed = 1
  console.error(error instanceof Error ? error.message : error)
} finally {
  await stopWorker()
  rmSync(temp, { recursive: true, force: true, maxRetries: 3 })
}
console.log(`pack: ${1 - failed} passed, ${failed} failed`)
process.exitCode = failed
