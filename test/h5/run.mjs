// The docs' H5 blocks (the Client SDK page), as printed, in real builds: a uni-app page (vite,
// Vue 3, `uni build`) and a Taro 4 page (React, webpack5, `taro build --type
// h5`), each served from its own origin and driven in headless Chromium
// against `npm run dev` (the Worker with the WeChat emulator) cross-origin:
// login with a code from the page's URL, /me, a nickname, an avatar upload,
// logout. Only the block's `baseUrl` is replaced, with the dev Worker's.
// Needs `npm ci --prefix test/h5` (the frameworks stay out of the main lock
// file) and /usr/bin/chromium; `.ci/run` does both. Run: `npm run test:h5`.
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchChromium } from '../../scripts/chromium.mjs'
import { freePort, startDevServer } from '../../scripts/dev-server.mjs'
import { tsBlocks } from '../../scripts/readme-blocks.mjs'
import { run } from '../../scripts/wrangler.mjs'

const here = fileURLToPath(new URL('.', import.meta.url))
const root = join(here, '../..')
export const PAGE_TIMEOUT = 30_000 // ms, one page's whole flow

/** The two projects: where the docs' block goes, how each builds, what it serves. */
const FRAMEWORKS = [
  {
    name: 'uni-app (vite, Vue 3)',
    dir: 'uni',
    adapter: 'uniAdapter(',
    build: ['node_modules/.bin/uni', ['build', '-p', 'h5']],
    out: 'dist/build/h5',
    page: 'index.html?code=CODE#/',
  },
  {
    name: 'Taro 4 (React, webpack5)',
    dir: 'taro',
    adapter: 'taroAdapter(',
    build: ['node_modules/.bin/taro', ['build', '--type', 'h5']],
    out: 'dist',
    page: 'index.html?code=CODE#/pages/index/index',
  },
]

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }

/**
 * A static server of `dir` on 127.0.0.1:`port` (another origin than the Worker's).
 * @param {string} dir
 * @param {number} port
 */
function serve(dir, port) {
  const server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))
    if (!path.startsWith(dir) || !existsSync(path) || path.endsWith('/')) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' })
    res.end(readFileSync(path))
  })
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)))
}

/** The docs page whose H5 blocks run here. */
const SDK_PAGE = 'docs/en/mini-program/sdk.md'

/** The SDK page's H5 block that calls `adapter`: exactly one. */
function readmeBlock(adapter) {
  const blocks = tsBlocks(readFileSync(join(root, SDK_PAGE), 'utf8')).filter(
    ({ body }) => body.includes('location.search') && body.includes(adapter),
  )
  if (blocks.length !== 1)
    throw new Error(`${SDK_PAGE}: ${blocks.length} H5 blocks with ${adapter}`)
  return /** @type {{ body: string }} */ (blocks[0]).body
}

const ports = await Promise.all(FRAMEWORKS.map(() => freePort()))
const origins = ports.map((port) => `http://127.0.0.1:${port}`)
const worker = await startDevServer({ args: ['--var', `CORS_ORIGINS:${origins.join(' ')}`] })
/** @type {import('node:http').Server[]} */
const servers = []
/** @type {import('playwright-core').Browser | undefined} */
let browser
let failed = 0
try {
  const { emulatorClient } = await import('wxa-auth/testing/client')
  const emulator = emulatorClient(worker.base)
  browser = await launchChromium()
  for (const [i, framework] of FRAMEWORKS.entries()) {
    const dir = join(here, framework.dir)
    const started = Date.now()
    try {
      const block = readmeBlock(framework.adapter)
      if (!block.includes("'https://auth.example.com'")) throw new Error('no baseUrl to replace')
      writeFileSync(
        join(dir, 'src/api.ts'),
        block.replace("'https://auth.example.com'", JSON.stringify(worker.base)),
      )
      copyFileSync(join(here, 'flow.js'), join(dir, 'src/flow.js'))
      rmSync(join(dir, framework.out), { recursive: true, force: true })
      const [command, args] = framework.build
      await run(join(here, /** @type {string} */ (command)), /** @type {string[]} */ (args), {
        cwd: dir,
        env: { NODE_ENV: 'production' },
      })
      const built = Date.now() - started
      servers.push(await serve(join(dir, framework.out), /** @type {number} */ (ports[i])))

      const openid = `h5-${framework.dir}-${Date.now()}`
      const code = await emulator.loginCode(openid)
      const page = await browser.newPage()
      /** @type {string[]} */
      const problems = []
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
      page.on('requestfailed', (req) => problems.push(`failed: ${req.method()} ${req.url()}`))
      await page.goto(`${origins[i]}/${framework.page.replace('CODE', code)}`)
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`)
      })
      const out = page.locator('#out')
      await out
        .filter({ hasNotText: 'running' })
        .waitFor({ timeout: PAGE_TIMEOUT })
        .catch(async (error) => {
          const body = (await page.textContent('body').catch(() => '')) ?? ''
          throw new Error(`${error.message}\n${problems.join('\n')}\npage: ${body.slice(0, 500)}`)
        })
      const result = JSON.parse((await out.textContent()) ?? '{}')
      await page.close()
      const checks = {
        'no error': !result.error,
        'logged in as the code’s user (/me)': result.openid === openid,
        'the nickname stuck': result.nickname === 'H5 小明',
        'the avatar uploaded': typeof result.avatarUrl === 'string',
        'the token is dead after logout': result.token
          ? (
              await fetch(`${worker.base}/me`, {
                headers: { authorization: `JWT ${result.token}` },
              })
            ).status === 401
          : false,
        'the SDK forgot the session': result.session === null,
      }
      if (result.avatarUrl) {
        const avatar = await fetch(result.avatarUrl)
        checks['the avatar serves'] = avatar.ok
      }
      const wrong = Object.entries(checks).filter(([, ok]) => !ok)
      if (wrong.length) {
        throw new Error(
          `${wrong.map(([what]) => what).join('; ')}: ${JSON.stringify(result)}\n${problems.join('\n')}`,
        )
      }
      console.log(
        `h5: ${framework.name}: built in ${(built / 1000).toFixed(1)} s; login, /me, nickname, avatar, logout from ${origins[i]}`,
      )
    } catch (error) {
      failed++
      console.error(`h5: ${framework.name}: ${error instanceof Error ? error.message : error}`)
    }
  }
} finally {
  await browser?.close()
  for (const server of servers) server.close()
  worker.stop()
}
console.log(`h5: ${FRAMEWORKS.length - failed} passed, ${failed} failed`)
process.exitCode = failed ? 1 : 0
