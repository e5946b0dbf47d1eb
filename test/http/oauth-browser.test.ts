import { existsSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { CHROMIUM, launchChromium } from '../../scripts/chromium.mjs'

// WeChat's browser doors in headless Chromium, as a user meets them in
// `npm run dev`: the playground's button, /auth/wechat/authorize, the
// emulator's consent page (WeChat's, in development), back to the page with
// a code and a state, logged in.
const available = existsSync(CHROMIUM)
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it`)

const baseUrl = inject('baseUrl')
let browser: Browser

beforeAll(async () => {
  if (available) browser = await launchChromium()
})
afterAll(() => browser?.close())

/** From the playground's button through the consent page, back logged in; the page's claims. */
async function throughConsent(page: Page, button: string, user: string, title: RegExp) {
  await page.goto(`${baseUrl}/`)
  await expect.poll(() => page.locator('#app option').count()).toBeGreaterThan(0)
  await page.click(button)
  await page.waitForURL(/\/__emulator\/connect\//)
  expect(await page.title()).toMatch(title)
  await page.fill('input[name=user]', user)
  await page.click('form button')
  await page.waitForURL((url) => url.pathname === '/' && !url.search.includes('code='))
  // The emulator's openid is per app: the user's name and the app's.
  await expect
    .poll(() => page.textContent('#status'))
    .toMatch(new RegExp(`^Logged in as ${user}_\\w+ \\(WeChat web\\)$`))
  return JSON.parse((await page.textContent('#claims')) ?? '{}')
}

describe.runIf(available)('WeChat’s browser doors in the playground', () => {
  it('an Official Account page: authorize, the consent page, back with code and state, logged in', async () => {
    const page = await browser.newPage()
    const user = `oa-${Date.now()}`
    const claims = await throughConsent(page, '#oa-login', user, /Official Account/)
    expect(claims.payload.sub).toEqual(expect.any(String))
    // A real session: GET /auth/sessions lists it, the current device.
    await page.click('#devices')
    await expect.poll(() => page.locator('#device-list .device').count()).toBe(1)
    expect(await page.locator('#device-list .device').first().textContent()).toMatch(/^★ /)
    // The page dropped the code and state from its address once it used them.
    expect(page.url()).toBe(`${baseUrl}/`)
    await page.close()
  })

  it('the website’s QR login: qrconnect, the consent page, logged in', async () => {
    const page = await browser.newPage()
    const user = `web-${Date.now()}`
    const claims = await throughConsent(page, '#web-login', user, /Website login/)
    expect(claims.payload.sub).toEqual(expect.any(String))
    await page.close()
  })
})
