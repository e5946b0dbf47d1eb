import { existsSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { png } from '../images'

// The playground and /docs in headless Chromium (Debian's package, which
// .ci/run installs). Outside CI a machine without it skips this file, saying so.
const CHROMIUM = '/usr/bin/chromium'
const available = existsSync(CHROMIUM)
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it`)
if (!available) console.warn(`browser tests skipped: no ${CHROMIUM} (apt-get install chromium)`)

const baseUrl = inject('baseUrl')
/** A real 1×1 PNG, which a browser decodes. */
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
)
let browser: Browser

beforeAll(async () => {
  if (!available) return
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
})
afterAll(() => browser?.close())

/** Clicks `#id` and waits for the request to `path` it makes; its status. */
async function click(page: Page, id: string, path: string): Promise<number> {
  const entries = page.locator(`.entry[data-path="${path}"]`)
  const before = await entries.count()
  await page.click(`#${id}`)
  await expect.poll(() => entries.count(), { timeout: 10_000 }).toBeGreaterThan(before)
  return Number(await entries.first().getAttribute('data-status'))
}

describe.runIf(available)('the playground in a browser', () => {
  it('walks the mini program flow: log in, use, change, decrypt, revoke, log out', async () => {
    const page = await browser.newPage()
    await page.goto(`${baseUrl}/`)
    await page.fill('#openid', `pw-${Date.now()}`)

    expect(await click(page, 'login', '/auth/login')).toBe(200)
    await expect.poll(() => page.textContent('#status')).toContain('Logged in as pw-')
    expect(await page.textContent('#claims')).toContain('"sub"')

    expect(await click(page, 'me', '/me')).toBe(200)
    await page.fill('#session-data', '{"cart":["tea","cake"]}')
    expect(await click(page, 'save-session', '/me/session')).toBe(200)
    expect(await click(page, 'me', '/me')).toBe(200)
    expect(await page.locator('.entry[data-path="/me"]').first().textContent()).toContain('cake')

    expect(await click(page, 'decrypt', '/auth/decrypt')).toBe(200)
    expect(await page.locator('.entry[data-path="/auth/decrypt"]').first().textContent()).toContain(
      'Alice',
    )
    expect(await click(page, 'phone', '/auth/phone')).toBe(200)
    expect(await page.locator('.entry[data-path="/auth/phone"]').first().textContent()).toContain(
      '13800138000',
    )

    expect(await click(page, 'refresh', '/auth/refresh')).toBe(200)
    expect(await click(page, 'devices', '/auth/sessions')).toBe(200)
    await expect.poll(() => page.locator('.device').count()).toBe(1)
    expect(await page.textContent('.device')).toContain('★')

    expect(await click(page, 'logout', '/auth/logout')).toBe(200)
    await expect.poll(() => page.textContent('#status')).toBe('Logged out')
    expect(await click(page, 'me', '/me')).toBe(401)
    await page.close()
  })

  it('the profile panel: set an avatar and a nickname, push each event, watch it change', async () => {
    const page = await browser.newPage()
    await page.goto(`${baseUrl}/`)
    await page.fill('#openid', `pw-profile-${Date.now()}`)
    expect(await click(page, 'login', '/auth/login')).toBe(200)
    const view = () => page.textContent('#profile-view')
    const setProfile = async (avatar: Buffer | null, nickname: string) => {
      await page.setInputFiles(
        '#avatar-file',
        avatar ? { name: 'avatar.png', mimeType: 'image/png', buffer: avatar } : [],
      )
      await page.fill('#nickname', nickname)
      return click(page, 'set-profile', '/auth/profile')
    }
    // A push, then the panel reloads the profile: wait for that GET.
    const push = async (id: string) => {
      const loads = page.locator('.entry[data-path="/auth/profile"]')
      const before = await loads.count()
      expect(
        await click(
          page,
          id,
          id === 'media-checks' ? '/__emulator/media-checks' : '/__emulator/events',
        ),
      ).toBe(200)
      await expect.poll(() => loads.count()).toBeGreaterThan(before)
    }
    const revoke = async (info: string) => {
      await page.selectOption('#revoke-info', info)
      await push('revoke-event')
    }

    expect(await setProfile(PIXEL, '小明')).toBe(200)
    await expect.poll(view).toBe('nickname: 小明 · avatar: yes')
    // The browser fetched the served avatar and decoded it: a real 1×1 PNG.
    await expect
      .poll(() => page.$eval('#avatar-img', (img) => (img as HTMLImageElement).naturalWidth))
      .toBe(1)

    await page.selectOption('#event-format', 'xml')
    await revoke('4') // Bluetooth: nothing of ours
    await expect.poll(view).toBe('nickname: 小明 · avatar: yes')
    await revoke('19')
    await expect.poll(view).toBe('nickname: (none) · avatar: yes')
    await revoke('20')
    await expect.poll(view).toBe('nickname: (none) · avatar: (none)')
    expect(await click(page, 'me', '/me')).toBe(200) // no revoke ends a session

    expect(await setProfile(PIXEL, 'Ada')).toBe(200)
    await page.selectOption('#event-format', 'json')
    await push('info-event')
    await expect.poll(view).toBe('nickname: (none) · avatar: (none)')

    // An image the emulator calls risky: served until the check's push, then gone.
    expect(await setProfile(Buffer.from(png('risky')), 'Bo')).toBe(200)
    await expect.poll(view).toBe('nickname: Bo · avatar: yes')
    await push('media-checks')
    await expect.poll(view).toBe('nickname: Bo · avatar: (none)')

    expect(await setProfile(null, 'a risky name')).toBe(422)
    expect(await page.locator('.entry[data-path="/auth/profile"]').first().textContent()).toContain(
      'NICKNAME_RISKY',
    )

    expect(await click(page, 'cancel-event', '/__emulator/events')).toBe(200)
    expect(await click(page, 'me', '/me')).toBe(401)
    expect(await page.locator('.entry[data-path="/me"]').first().textContent()).toContain(
      'SESSION_EXPIRED',
    )
    await page.close()
  })

  it.each([
    ['douyin', 'tt0000000000emu01', 'Douyin'],
    ['qq', '1100000001', 'QQ'],
  ])(
    'logs in as a %s user, whom /me tells apart; decrypts; no phone number',
    async (platform, appId, name) => {
      const page = await browser.newPage()
      await page.goto(`${baseUrl}/`)
      await expect.poll(() => page.locator(`#app option[value="${appId}"]`).count()).toBe(1)
      await page.selectOption('#app', appId)
      await page.fill('#openid', `pw-${platform}-${Date.now()}`)
      expect(await click(page, 'login', '/auth/login')).toBe(200)
      await expect.poll(() => page.textContent('#status')).toContain(`(${name})`)
      expect(await click(page, 'me', '/me')).toBe(200)
      expect(await page.locator('.entry[data-path="/me"]').first().textContent()).toContain(
        `"platform": "${platform}"`,
      )
      expect(await click(page, 'decrypt', '/auth/decrypt')).toBe(200)
      expect(await click(page, 'phone', '/auth/phone')).toBe(400)
      expect(await page.locator('.entry[data-path="/auth/phone"]').first().textContent()).toContain(
        'NOT_OFFERED',
      )
      await page.close()
    },
  )

  it('loads /docs with every route and error code', async () => {
    const page = await browser.newPage()
    await page.goto(`${baseUrl}/docs`)
    const doc = await (await fetch(`${baseUrl}/openapi.json`)).json()
    const routes = Object.values(doc.paths as Record<string, object>).reduce<number>(
      (n, ops) => n + Object.keys(ops).length,
      0,
    )
    expect(await page.locator('#routes li').count()).toBe(routes)
    const text = (await page.textContent('body')) ?? ''
    for (const code of doc.components.schemas.Error.properties.error.properties.code.enum) {
      if (code !== 'NOT_FOUND') expect(text, code).toContain(code)
    }
    await page.close()
  })
})
