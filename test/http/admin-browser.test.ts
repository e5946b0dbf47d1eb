import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { emulatorCode } from '../../client/test/device'
import { recordAnswer } from '../../client/test/global-setup'
import { CHROMIUM, launchChromium } from '../../scripts/chromium.mjs'
import { startDevServer } from '../../scripts/dev-server.mjs'

// The operators' console at /admin in headless Chromium, on a dev Worker of
// its own started with ADMIN_KEYS (the shared one has none, and answers 404).
const available = existsSync(CHROMIUM)
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it`)

const sharedBase = inject('baseUrl')
const KEY = randomBytes(32).toString('base64url')
let browser: Browser
let server: Awaited<ReturnType<typeof startDevServer>>

beforeAll(async () => {
  if (!available) return
  server = await startDevServer({ args: ['--var', `ADMIN_KEYS:console:${KEY}`] })
  browser = await launchChromium()
}, 90_000)
afterAll(async () => {
  await browser?.close()
  server?.stop()
})

/** A login of `openid` through the emulator: status, error code, uid. */
async function login(openid: string, userAgent = 'console-test') {
  const code = await emulatorCode(server.base, openid)
  const res = await fetch(`${server.base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': userAgent },
    body: JSON.stringify({ code }),
  })
  const body = (await res.json()) as { user?: { id: string }; error?: { code: string } }
  return { status: res.status, code: body.error?.code, uid: body.user?.id }
}

/**
 * Records every 2xx JSON answer of the admin API the page gets, for the check
 * against /openapi.json at the end of the run; settle() waits for them.
 */
function recordApi(page: Page) {
  const pending: Promise<void>[] = []
  page.on('response', (res) => {
    const url = new URL(res.url())
    const json = (res.headers()['content-type'] ?? '').startsWith('application/json')
    if (!url.pathname.startsWith('/admin/api/') || !res.ok() || !json) return
    pending.push(
      res.json().then((body) => {
        const method = res.request().method()
        recordAnswer(inject('answersFile'), {
          method,
          path: url.pathname,
          status: res.status(),
          body,
        })
      }),
    )
  })
  return { settle: () => Promise.all(pending) }
}

/** Everything the page said was refused by its Content-Security-Policy, or failed in its script. */
function troubles(page: Page): string[] {
  const seen: string[] = []
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of 40[34]/.test(msg.text())) seen.push(msg.text())
  })
  page.on('pageerror', (error) => seen.push(error.message))
  return seen
}

describe('/admin without ADMIN_KEYS', () => {
  it('is 404, the page and its script alike', async () => {
    for (const path of ['/admin', '/admin/console.js', '/admin/console.css']) {
      const res = await fetch(`${sharedBase}${path}`)
      expect(res.status, path).toBe(404)
      await res.body?.cancel()
    }
  })
})

describe.runIf(available)('the console in a browser', () => {
  it('answers with a policy that forbids inline script and framing, and no cache', async () => {
    const res = await fetch(`${server.base}/admin`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    )
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('cache-control')).toBe('no-store')
    const html = await res.text()
    // No inline script or style: the page's own are separate, same-origin answers.
    expect(html).not.toMatch(/<script>|<style>| style=| on\w+=/)
    expect(html).toContain('<script src="/admin/console.js" defer></script>')
    for (const [path, type] of [
      ['/admin/console.js', 'text/javascript'],
      ['/admin/console.css', 'text/css'],
    ] as const) {
      const asset = await fetch(`${server.base}${path}`)
      expect(asset.headers.get('content-type')).toContain(type)
      expect(asset.headers.get('cache-control')).toBe('no-store')
      const text = await asset.text()
      expect(text).not.toMatch(/https?:\/\//)
    }
  })

  it('searches a user, bans them (login 403), unbans, and reads the audit log', async () => {
    const openid = `console-${Date.now()}`
    // The device's name is the user's own text: it must be shown as text.
    const first = await login(openid, '<img id="pwned" src="x">')
    expect(first.status).toBe(200)
    const uid = first.uid as string

    const context = await browser.newContext({ locale: 'en-US', acceptDownloads: true })
    const page = await context.newPage()
    const seen = troubles(page)
    const answers = recordApi(page)
    page.on('dialog', (dialog) => dialog.dismiss())
    await page.goto(`${server.base}/admin`)
    await expect.poll(() => page.textContent('#tab-users')).toBe('Users')
    await page.fill('#key', KEY)
    await page.click('#key-form button:not([type])')
    await expect.poll(() => page.textContent('#key-state')).toBe('A key is set for this tab.')
    // The key is in this tab's sessionStorage, nowhere else.
    expect(await page.evaluate(() => [localStorage.length, document.cookie])).toEqual([0, ''])
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(KEY)

    await page.fill('#q', openid)
    await page.click('#search-form button')
    await page.click(`#results [data-uid="${uid}"]`)
    await expect.poll(() => page.textContent('#user-id')).toBe(uid)
    expect(await page.textContent('#identities')).toContain(openid)
    await expect.poll(() => page.locator('#devices [data-session]').count()).toBe(1)
    expect(await page.textContent('#devices')).toContain('<img id="pwned"')
    expect(await page.locator('#pwned').count()).toBe(0)
    expect(await page.textContent('#ban-state')).toBe('Not banned.')

    await page.fill('#reason', 'spam from the console test')
    await page.click('#ban-form button.danger')
    await expect
      .poll(() => page.textContent('#ban-state'))
      .toMatch(/^Banned: spam from the console test/)
    // A ban ends every session.
    await expect.poll(() => page.locator('#devices [data-session]').count()).toBe(0)
    expect(await login(openid)).toMatchObject({ status: 403, code: 'USER_BANNED' })

    await page.click('#unban')
    await expect.poll(() => page.textContent('#ban-state')).toBe('Not banned.')
    expect(await login(openid)).toMatchObject({ status: 200, uid })

    // The audit log, filtered by the user: the ban and the unban, by this key's id.
    await page.click('#tab-audit')
    await page.fill('#a-user', uid)
    await page.click('#audit-form button:not([type])')
    await expect.poll(() => page.locator('#records tr').count()).toBeGreaterThan(2)
    const rows = await page.$$eval('#records tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    )
    expect(rows.every((row) => row[2] === uid)).toBe(true)
    const types = rows.map((row) => row[1])
    expect(types).toContain('ban')
    expect(types).toContain('unban')
    expect(rows.find((row) => row[1] === 'ban')?.[3]).toBe('operator:console')

    // The same, filtered by type too, and exported as NDJSON.
    await page.selectOption('#a-type', 'ban')
    await page.click('#audit-form button:not([type])')
    await expect.poll(() => page.locator('#records tr').count()).toBe(1)
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')])
    const lines = readFileSync((await download.path()) as string, 'utf8')
      .trim()
      .split('\n')
    expect(lines.map((line) => JSON.parse(line))).toMatchObject([{ type: 'ban', uid }])
    // And by time: since a day ahead, nothing; before a day ahead, the ban again.
    const dayAhead = new Date(Date.now() + 86_400_000 - new Date().getTimezoneOffset() * 60_000)
      .toISOString()
      .slice(0, 16)
    await page.fill('#a-since', dayAhead)
    await page.click('#audit-form button:not([type])')
    await expect.poll(() => page.textContent('#status')).toBe('Nothing found.')
    expect(await page.locator('#records tr').count()).toBe(0)
    await page.fill('#a-since', '')
    await page.fill('#a-until', dayAhead)
    await page.click('#audit-form button:not([type])')
    await expect.poll(() => page.locator('#records tr').count()).toBe(1)

    // The other language, from the toggle.
    await page.click('#lang')
    expect(await page.textContent('#tab-audit')).toBe('审计日志')
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN')
    expect(seen).toEqual([])
    await answers.settle()
    await context.close()
  })

  it('ends one device, then every one, then deletes the account after a confirmation', async () => {
    const openid = `console-end-${Date.now()}`
    const { uid } = await login(openid)
    await login(openid)
    await login(openid)
    const page = await browser.newPage({ locale: 'en-US' })
    const seen = troubles(page)
    const answers = recordApi(page)
    await page.goto(`${server.base}/admin`)
    await page.fill('#key', KEY)
    await page.click('#key-form button:not([type])')
    await page.fill('#q', openid)
    await page.click('#search-form button')
    await page.click(`#results [data-uid="${uid}"]`)
    await expect.poll(() => page.locator('#devices [data-session]').count()).toBe(3)
    await page.click('#devices [data-session] button >> nth=0')
    await expect.poll(() => page.locator('#devices [data-session]').count()).toBe(2)
    await page.click('#logout-all')
    await expect.poll(() => page.locator('#devices [data-session]').count()).toBe(0)

    // Dismissed, nothing happens; accepted, the account is gone.
    page.once('dialog', (dialog) => dialog.dismiss())
    await page.click('#delete')
    expect(await page.textContent('#user-id')).toBe(uid)
    expect(await page.textContent('#status')).toBe('Done.')
    page.once('dialog', (dialog) => dialog.accept())
    await page.click('#delete')
    await expect.poll(() => page.textContent('#status')).toBe('Account deleted.')
    expect(await page.isVisible('#user')).toBe(false)
    await page.click('#search-form button')
    await expect.poll(() => page.textContent('#status')).toBe('Nothing found.')
    // A login now starts afresh: one device, none of the old ones.
    expect(await login(openid)).toMatchObject({ status: 200, uid })
    await page.click('#search-form button')
    await page.click(`#results [data-uid="${uid}"]`)
    await expect.poll(() => page.locator('#devices [data-session]').count()).toBe(1)
    expect(seen).toEqual([])
    await answers.settle()
    await page.close()
  })

  it('fits a 320 px wide phone, in the language of the browser', async () => {
    const openid = `console-phone-${Date.now()}`
    const { uid } = await login(openid)
    const context = await browser.newContext({
      locale: 'zh-CN',
      viewport: { width: 320, height: 640 },
      isMobile: true,
      hasTouch: true,
    })
    const page = await context.newPage()
    const seen = troubles(page)
    await page.goto(`${server.base}/admin`)
    await expect.poll(() => page.textContent('#tab-users')).toBe('用户')
    await page.fill('#key', KEY)
    await page.click('#key-form button:not([type])')
    await page.fill('#q', openid)
    await page.click('#search-form button')
    await page.click(`#results [data-uid="${uid}"]`)
    await expect.poll(() => page.textContent('#user-id')).toBe(uid)
    const width = () => page.evaluate(() => document.documentElement.scrollWidth)
    expect(await width()).toBeLessThanOrEqual(320)
    await page.click('#tab-audit')
    expect(await width()).toBeLessThanOrEqual(320)
    expect(seen).toEqual([])
    await context.close()
  })

  it('says a wrong key is refused, and keeps nothing after Forget', async () => {
    const page = await browser.newPage({ locale: 'en-US' })
    await page.goto(`${server.base}/admin`)
    await page.fill('#key', randomBytes(32).toString('base64url'))
    await page.click('#key-form button:not([type])')
    await page.fill('#q', 'anyone')
    await page.click('#search-form button')
    await expect.poll(() => page.textContent('#status')).toMatch(/^Failed: /)
    await page.click('#forget')
    expect(await page.evaluate(() => sessionStorage.getItem('wxa-admin-key'))).toBe(null)
    await page.close()
  })
})
