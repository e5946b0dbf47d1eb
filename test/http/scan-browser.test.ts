import { existsSync } from 'node:fs'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { CHROMIUM, launchChromium } from '../../scripts/chromium.mjs'

// The playground's "scan on PC" panel in headless Chromium: the PC's ticket
// and code, the mini program's confirmation, the PC logged in as the same user.
const available = existsSync(CHROMIUM)
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it`)

const baseUrl = inject('baseUrl')
let browser: Browser

beforeAll(async () => {
  if (available) browser = await launchChromium()
})
afterAll(() => browser?.close())

describe.runIf(available)('the playground’s scan on PC panel', () => {
  it('shows the code, the mini program confirms, the PC’s poll logs it in as the same user', async () => {
    const page = await browser.newPage()
    await page.goto(`${baseUrl}/`)
    await expect.poll(() => page.locator('#app option').count()).toBeGreaterThan(0)
    await page.fill('#openid', `scan-${Date.now()}`)
    await page.click('#login')
    await expect.poll(() => page.textContent('#status')).toContain('Logged in as scan-')
    const claims = JSON.parse((await page.textContent('#claims')) ?? '{}')

    await page.click('#scan-start')
    await expect.poll(() => page.textContent('#scan-status')).toContain('PC: pending')
    // The code is a PNG the browser decodes.
    await expect
      .poll(() => page.$eval('#scan-code', (img) => (img as HTMLImageElement).naturalWidth))
      .toBeGreaterThan(100)

    await page.click('#scan-scanned')
    await page.click('#scan-poll')
    await expect.poll(() => page.textContent('#scan-status')).toBe('PC: scanned')
    await page.click('#scan-confirm')
    await expect.poll(() => page.locator('.entry b').first().textContent()).toMatch(/confirm → 200/)
    await page.click('#scan-poll')
    await expect
      .poll(() => page.textContent('#scan-status'))
      .toBe(`PC logged in as user ${claims.payload.sub}`)
    await page.click('#scan-poll')
    await expect.poll(() => page.textContent('#scan-status')).toBe('PC: SCAN_TICKET_USED')
    await page.close()
  })
})
