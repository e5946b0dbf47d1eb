// The package as a user gets it: `npm pack`, then examples/hono-worker copied
// to a temporary folder with the tarball installed from there (its other
// dependencies from the registry), type-checked, built as `wrangler deploy`
// would, served by `wrangler dev` with the WeChat emulator, and logged in to by
// its own tests (`node --test`). Every TypeScript block of both READMEs is
// compiled there as printed (scripts/readme-blocks.mjs). Part of `npm test`;
// the repo's examples/ stays free of node_modules.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { transformSync } from 'esbuild'
import { freePort } from './dev-server.mjs'
import { CLIENT_TYPES, compileReadmeBlocks } from './readme-blocks.mjs'
import { quietEnv } from './wrangler.mjs'

export const START_TIMEOUT = 90_000 // ms, wrangler dev in the example
export const STEP_TIMEOUT = 5 * 60_000 // ms, any one command (npm install is the slow one)

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
]
const FORBIDDEN = /^(src|test|client|scripts|bench|examples|build|\.ci)\/|\.env|\.dev\.vars/

/** @param {number} n bytes */
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`

/**
 * Runs a command to the end, its output kept for the error it throws on a non-zero exit.
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string> }} [options]
 * @returns {Promise<string>} what it printed on stdout
 */
function run(command, args, { cwd = process.cwd(), env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...quietEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.stderr.on('data', (chunk) => (err += chunk))
    const timer = setTimeout(() => child.kill('SIGTERM'), STEP_TIMEOUT)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(out)
      else {
        const how = signal ? `signal ${signal}` : `exit ${code}`
        reject(new Error(`${command} ${args.join(' ')} (in ${cwd}): ${how}\n${out}\n${err}`))
      }
    })
  })
}

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

  // 2. The example, outside the repo, with the tarball as its wxa-auth.
  const app = join(temp, 'hono-worker')
  cpSync(join(root, 'examples/hono-worker'), app, {
    recursive: true,
    filter: (path) => !/[/\\](node_modules|\.wrangler|build)$|\.dev\.vars$/.test(path),
  })
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    cwd: app,
  })
  const installed = JSON.parse(
    readFileSync(join(app, 'node_modules/wxa-auth/package.json'), 'utf8'),
  )
  if (installed.version !== packed.version) throw new Error('the example did not get the tarball')

  // 3. It type-checks against the published declarations.
  await run(join(app, 'node_modules/.bin/tsc'), ['-p', app], { cwd: app })
  console.log('pack: the example type-checks (tsc)')

  // 3b. So does every ```ts block of both READMEs, as printed; the SDK's with the
  // frameworks' own types, and under moduleResolution "node" on TypeScript 5 too.
  // Not saved: the example's package.json stays as a user has it.
  await run('npm', ['install', '--no-save', '--legacy-peer-deps', ...CLIENT_TYPES], { cwd: app })
  const blocks = await compileReadmeBlocks(root, app, run)
  console.log(`pack: ${blocks} README code blocks type-check (tsc, and TypeScript 5 for the SDK's)`)

  // 4. It builds as `wrangler deploy` would, without the emulator.
  await run(join(app, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', 'build'], {
    cwd: app,
  })
  const bundle = readFileSync(join(app, 'build/index.js'))
  if (bundle.toString('utf8').includes('class WeChatEmulator')) {
    throw new Error('the example’s production bundle carries the WeChat emulator')
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
