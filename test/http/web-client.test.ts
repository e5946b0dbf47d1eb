import { existsSync } from 'node:fs'
import { build } from 'esbuild'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type * as Web from '../../client/src/web'
import { emulatorCodes } from '../../client/test/device'
import { CHROMIUM, launchChromium } from '../../scripts/chromium.mjs'

// `wxa-auth/web` in headless Chromium, on the dev server's origin: an
// Official Account page's redirect and consent page, and a PC's scan-to-login
// confirmed by a mini program, each ending in a session its requests use.
const available = existsSync(CHROMIUM)
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it`)

const baseUrl = inject('baseUrl')
let browser: Browser
let script = ''

declare global {
  interface Window {
    wxaWeb: typeof Web
  }
}

/** A blank page of the dev server's origin (served by the test), with the SDK loaded. */
const PAGE = `${baseUrl}/web-client-test`

beforeAll(async () => {
  if (!available) return
  browser = await launchChromium()
  const bundled = await build({
    entryPoints: ['client/src/web.ts'],
    bundle: true,
    format: 'iife',
    globalName: 'wxaWeb',
    target: 'es2017',
    write: false,
    logLevel: 'warning',
  })
  script = bundled.outputFiles[0]?.text ?? ''
})
afterAll(() => browser?.close())

/** A blank page of the dev server's origin, served by the test, with the SDK loaded. */
async function blankPage(): Promise<Page> {
  const page = await browser.newPage()
  const blank = { contentType: 'text/html', body: '<!doctype html><title>page</title>' }
  await page.route(PAGE, (route) => route.fulfill(blank))
  await page.goto(PAGE)
  await page.addScriptTag({ content: script })
  return page
}

const json = async (path: string, body: unknown, token?: string) => {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `JWT ${token}` } : {}),
    },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Record<string, any> }
}

/** A mini program's user, logged in: its token and user id. */
async function miniProgramUser() {
  const { code } = await emulatorCodes(baseUrl, `mp-web-${Date.now()}`)
  const { status, body } = await json('/auth/login', { code })
  expect(status).toBe(200)
  return { token: body.token as string, id: body.user.id as string }
}

/** Starts scanLogin in the page (polling every 300 ms); its ticket once the code is shown. */
async function startScan(page: Page) {
  await page.evaluate(() => {
    const api = window.wxaWeb.createWebClient({ baseUrl: location.origin })
    const w = window as unknown as Record<string, unknown>
    w.statuses = []
    w.scan = api
      .scanLogin({
        intervalMs: 300,
        onCode: (qrcode, { ticket }) => {
          w.shown = { qrcode: qrcode.slice(0, 22), ticket }
        },
        onStatus: (status) => (w.statuses as string[]).push(status),
      })
      .then(
        (session) => ({ userId: (session.user as { id: string }).id }),
        (error: { code?: string }) => ({ error: error.code }),
      )
  })
  await expect.poll(() => page.evaluate(() => (window as any).shown)).toBeTruthy()
  return (await page.evaluate(() => (window as any).shown)) as { qrcode: string; ticket: string }
}

describe.runIf(available)('wxa-auth/web in Chromium', () => {
  it('an OA page: authorize, the consent page, back, completeLogin, then /me with refresh on 401', async () => {
    const page = await blankPage()
    const oa = ((await (await fetch(`${baseUrl}/__emulator/oauth/apps`)).json()) as { oa: string })
      .oa
    // No session: a browser has no silent login.
    const before = await page.evaluate(() =>
      window.wxaWeb
        .createWebClient({ baseUrl: location.origin })
        .request({ url: '/me' })
        .catch((error: { code: string }) => error.code),
    )
    expect(before).toBe('LOGIN_REQUIRED')

    await page.evaluate(
      (appId) =>
        window.wxaWeb
          .createWebClient({ baseUrl: location.origin, appId })
          .authorize({ redirectUri: `${location.origin}/healthz`, scope: 'snsapi_userinfo' }),
      oa,
    )
    await page.waitForURL(/\/__emulator\/connect\//)
    const user = `web-sdk-${Date.now()}`
    await page.fill('input[name=user]', user)
    await page.click('form button')
    // Back at the redirect URI (the test's allow-list has /healthz; a real one, the app's page).
    await page.waitForURL((url) => url.pathname === '/healthz' && url.searchParams.has('code'))
    expect(new URL(page.url()).searchParams.get('appId')).toBe(oa)
    await page.addScriptTag({ content: script })
    const done = await page.evaluate(async () => {
      const api = window.wxaWeb.createWebClient({ baseUrl: location.origin })
      const session = await api.completeLogin()
      const me = await api.request<{ user: { id: string; openid: string } }>({ url: '/me' })
      return { session, me: me.data, address: location.href, again: await api.completeLogin() }
    })
    expect(done.session?.token).toEqual(expect.any(String))
    expect(done.me.user.openid).toMatch(new RegExp(`^${user}_`))
    expect(done.session?.user).toEqual(expect.objectContaining({ id: done.me.user.id }))
    // The code and state are gone from the address; the app stays.
    expect(done.address).toBe(`${baseUrl}/healthz?appId=${oa}#wechat_redirect`)
    expect(done.again).toBeNull()

    // A token the server refuses, from a while ago: one refresh, then the request again.
    const refreshed = await page.evaluate(async () => {
      const key = 'wxa-auth:session'
      const stored = JSON.parse(localStorage.getItem(key) ?? '{}')
      localStorage.setItem(
        key,
        JSON.stringify({ ...stored, token: 'x.y.z', receivedAt: stored.receivedAt - 60_000 }),
      )
      const api = window.wxaWeb.createWebClient({ baseUrl: location.origin })
      const me = await api.request<{ user: { id: string } }>({ url: '/me' })
      const after = JSON.parse(localStorage.getItem(key) ?? '{}')
      return { id: me.data.user.id, changed: after.refreshToken !== stored.refreshToken }
    })
    expect(refreshed).toEqual({ id: done.me.user.id, changed: true })

    // A refresh token refused too: the page must log in again.
    const required = await page.evaluate(async () => {
      const key = 'wxa-auth:session'
      const stored = JSON.parse(localStorage.getItem(key) ?? '{}')
      localStorage.setItem(
        key,
        JSON.stringify({
          ...stored,
          token: 'x.y.z',
          refreshToken: 'nope',
          receivedAt: stored.receivedAt - 60_000,
        }),
      )
      const api = window.wxaWeb.createWebClient({ baseUrl: location.origin })
      const error = await api.request({ url: '/me' }).catch((e: Error & { code: string }) => e)
      return { code: (error as { code: string }).code, message: (error as Error).message }
    })
    expect(required.code).toBe('LOGIN_REQUIRED')
    expect(required.message).toMatch(/authorize\(\)/)
    await page.close()
  })

  it('scanLogin: the code, the mini program confirms, the PC is the same user; /me works', async () => {
    const page = await blankPage()
    const mp = await miniProgramUser()
    const { qrcode, ticket } = await startScan(page)
    expect(qrcode).toBe('data:image/png;base64,')
    await expect.poll(() => page.evaluate(() => (window as any).statuses)).toEqual(['pending'])
    expect((await json(`/auth/scan/${ticket}/scanned`, {}, mp.token)).status).toBe(200)
    await expect.poll(() => page.evaluate(() => (window as any).statuses)).toContain('scanned')
    expect((await json(`/auth/scan/${ticket}/confirm`, {}, mp.token)).status).toBe(200)
    expect(await page.evaluate(() => (window as any).scan)).toEqual({ userId: mp.id })
    expect(await page.evaluate(() => (window as any).statuses)).toEqual(['pending', 'scanned'])
    const me = await page.evaluate(async () => {
      const api = window.wxaWeb.createWebClient({ baseUrl: location.origin })
      return (await api.request<{ user: { id: string } }>({ url: '/me' })).data.user.id
    })
    expect(me).toBe(mp.id)
    await page.close()
  })

  it('scanLogin: the user refuses on the phone, it rejects with SCAN_DENIED', async () => {
    const page = await blankPage()
    const mp = await miniProgramUser()
    const { ticket } = await startScan(page)
    expect((await json(`/auth/scan/${ticket}/deny`, {}, mp.token)).status).toBe(200)
    expect(await page.evaluate(() => (window as any).scan)).toEqual({ error: 'SCAN_DENIED' })
    expect(await page.evaluate(() => localStorage.getItem('wxa-auth:session'))).toBeNull()
    await page.close()
  })
})
