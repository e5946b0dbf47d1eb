import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM, launchChromium } from '../../scripts/chromium.mjs'

// The docs site as a reader gets it: built by VitePress from docs/ (as
// `npm run docs:build` builds it) into a temporary folder, with a base path as
// a GitHub Pages project site has it, served as static files under that path
// on a free loopback port, read in headless Chromium (Debian's package,
// which .ci/run installs): its search finds a term, the result opens its page,
// and the language switch lands on the same page in the other language.
const available = existsSync(CHROMIUM)
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it`)
if (!available) console.warn(`docs site tests skipped: no ${CHROMIUM} (apt-get install chromium)`)

const BUILD_TIMEOUT = 180_000 // ms, `vitepress build` (about 10 s on an idle machine)
/** Where the site is served, as `DOCS_BASE` sets it for the build. */
const BASE_PATH = '/wxa-auth/'
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
}

let out = ''
let server: Server | undefined
let base = ''
let browser: Browser | undefined
/** Requests the pages made to any other host: the site must load nothing from elsewhere. */
const elsewhere: string[] = []

/** Runs `vitepress build docs` into `dir`; rejects with its output when it fails. */
function build(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['node_modules/vitepress/bin/vitepress.js', 'build', 'docs', '--outDir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DOCS_BASE: BASE_PATH } },
    )
    let log = ''
    child.stdout.on('data', (chunk) => {
      log += chunk
    })
    child.stderr.on('data', (chunk) => {
      log += chunk
    })
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`vitepress build exited ${code}:\n${log}`)),
    )
  })
}

/**
 * Serves the built files under BASE_PATH as a static host would: `/a/` is
 * `/a/index.html`; anything else, outside BASE_PATH included, is 404.html.
 */
function serve(dir: string): Promise<string> {
  server = createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const path = normalize(`/${url.startsWith(BASE_PATH) ? url.slice(BASE_PATH.length) : '-'}`)
    let file = join(dir, path.endsWith('/') ? `${path}index.html` : path)
    const found = file.startsWith(dir) && existsSync(file) && statSync(file).isFile()
    if (!found) file = join(dir, '404.html')
    res.writeHead(found ? 200 : 404, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    })
    res.end(readFileSync(file))
  })
  const listening = server
  return new Promise((resolve) =>
    listening.listen(0, '127.0.0.1', () => {
      resolve(`http://127.0.0.1:${(listening.address() as AddressInfo).port}`)
    }),
  )
}

/** The `# Title` of a docs page (`en/guide/quick-start` or `guide/quick-start`), as plain text. */
function sourceTitle(page: string): string {
  const text = readFileSync(join('docs', `${page}.md`), 'utf8')
  return (text.match(/^# (.+)$/m)?.[1] ?? '').replace(/`/g, '')
}

/** The docs page (`en/x/y` or `x/y`) that a site URL shows. */
function pageOf(url: string): string {
  return new URL(url).pathname
    .replace(BASE_PATH, '')
    .replace(/\.html$/, '')
    .replace(/(^|\/)$/, '$1index')
}

/** Opens the search box, types `term`, and follows the first result; the page it opened. */
async function search(page: Page, term: string): Promise<string> {
  await page.click('.VPNavBarSearch .DocSearch-Button')
  await page.fill('.search-input', term)
  const first = page.locator('.results .result').first()
  await expect.poll(() => first.count(), { timeout: 10_000 }).toBe(1)
  await first.click()
  await page.waitForURL((url) => !url.pathname.endsWith('/index.html') && url.hash !== '')
  return pageOf(page.url())
}

/** Switches the language in the nav bar to `label`; the page it opened. */
async function switchTo(page: Page, label: string): Promise<string> {
  const before = page.url()
  await page.hover('.VPNavBarTranslations')
  await page.click(`.VPNavBarTranslations a:has-text("${label}")`)
  await page.waitForURL((url) => url.href.split('#')[0] !== before.split('#')[0])
  await page.waitForLoadState()
  return pageOf(page.url())
}

/**
 * Waits until the page shows `title` in its heading and `lang` on <html>: a
 * VitePress navigation changes the URL before it renders the new page.
 */
async function shows(page: Page, title: string, lang: string): Promise<true> {
  await page.waitForFunction(
    ([heading, want]) =>
      (document.querySelector('.vp-doc h1')?.textContent ?? '').includes(heading as string) &&
      document.documentElement.lang === want,
    [title, lang],
    { timeout: 10_000 },
  )
  return true
}

beforeAll(async () => {
  if (!available) return
  out = mkdtempSync(join(tmpdir(), 'wxa-docs-'))
  await build(out)
  base = await serve(out)
  browser = await launchChromium()
}, BUILD_TIMEOUT)

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  if (out) rmSync(out, { recursive: true, force: true })
})

/** A fresh page that records every request it makes off the local server. */
async function open(path: string): Promise<Page> {
  if (!browser) throw new Error('no browser')
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  page.on('request', (request) => {
    if (!request.url().startsWith(base) && !request.url().startsWith('data:'))
      elsewhere.push(request.url())
  })
  await page.goto(`${base}${BASE_PATH.slice(0, -1)}${path}`)
  return page
}

describe.runIf(available)('the docs site, built, in a browser', () => {
  it('finds RevokeInfo with the English search, opens its page, and switches it to Chinese', async () => {
    const page = await open('/en/')
    const found = await search(page, 'RevokeInfo')
    expect(found).toMatch(/^en\//)
    expect(readFileSync(join('docs', `${found}.md`), 'utf8')).toContain('RevokeInfo')
    expect(await shows(page, sourceTitle(found), 'en-US')).toBe(true)

    const zh = await switchTo(page, '简体中文')
    expect(zh).toBe(found.replace(/^en\//, ''))
    expect(await shows(page, sourceTitle(zh), 'zh-CN')).toBe(true)
    await page.close()
  })

  it('finds RevokeInfo with the Chinese search too, and switches that page to English', async () => {
    const page = await open('/')
    expect(await page.textContent('.VPNavBarSearch')).toContain('搜索文档')
    const found = await search(page, 'RevokeInfo')
    expect(found).not.toMatch(/^en\//)
    expect(await shows(page, sourceTitle(found), 'zh-CN')).toBe(true)

    const en = await switchTo(page, 'English')
    expect(en).toBe(`en/${found}`)
    expect(await shows(page, sourceTitle(en), 'en-US')).toBe(true)
    await page.close()
  })

  it('loads nothing from another host', () => {
    expect(elsewhere).toEqual([])
  })
})
