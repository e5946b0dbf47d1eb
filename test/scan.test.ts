// Scan-to-login for the PC (小程序扫码登录, issue #31): the PC asks for a
// ticket and its mini program code, the logged-in mini program confirms,
// the PC's poll gets a new session of that user, once. Against workerd, the
// claim objects, the session objects and the WeChat emulator.

import { describe, expect, it } from 'vitest'
import {
  appWith,
  call,
  configError,
  expectError,
  type Fetcher,
  login,
  served,
  stableTokenCalls,
  testApp,
  testEnv,
} from './helpers'

interface Scan {
  ticket: string
  qrcode: string
  expiresAt: string
  appId: string
}

/** A clock the test moves. */
function clock() {
  const t = { now: Math.floor(Date.now() / 1000) }
  return { t, now: () => t.now }
}

const start = async (app?: Fetcher, json: unknown = {}) => {
  const res = await call<Scan>('POST', '/auth/scan', { json }, app)
  expect(res.status, res.text).toBe(200)
  return res.body
}
const poll = (ticket: string, app?: Fetcher, headers: Record<string, string> = {}) =>
  call('GET', `/auth/scan/${ticket}`, { headers }, app)
const step = (ticket: string, what: string, token?: string, app?: Fetcher) =>
  call('POST', `/auth/scan/${ticket}/${what}`, { ...(token ? { token } : {}) }, app)

/** The text chunks of a PNG, checking its signature and every CRC on the way. */
function pngText(bytes: Uint8Array): Record<string, string> {
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const text: Record<string, string> = {}
  const types: string[] = []
  for (let at = 8; at < bytes.length; ) {
    const length = view.getUint32(at)
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8))
    const data = bytes.subarray(at + 8, at + 8 + length)
    types.push(type)
    if (type === 'tEXt') {
      const [key, value] = String.fromCharCode(...data).split('\0')
      text[key as string] = value as string
    }
    at += 12 + length
  }
  expect(types[0]).toBe('IHDR')
  expect(types.at(-1)).toBe('IEND')
  expect(types).toContain('IDAT')
  return text
}

const decode = (qrcode: string) => {
  const [head, data] = qrcode.split(',')
  expect(head).toBe('data:image/png;base64')
  return Uint8Array.from(atob(data as string), (c) => c.charCodeAt(0))
}

describe('POST /auth/scan', () => {
  it('answers a 32-character random ticket, its mini program code (a real PNG) and the expiry', async () => {
    const app = appWith({ WECHAT_SCAN_PAGE: 'pages/scan/index' } as never)
    const before = Date.now()
    const a = await start(app)
    const b = await start(app)
    expect(a.ticket).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(a.ticket).not.toBe(b.ticket)
    expect(a.appId).toBe('wx00000000emulator')
    const expires = Date.parse(a.expiresAt) - before
    expect(expires).toBeGreaterThan(290_000)
    expect(expires).toBeLessThanOrEqual(301_000)
    const text = pngText(decode(a.qrcode))
    expect(text).toEqual({ scene: a.ticket, page: 'pages/scan/index', env_version: 'release' })
  })

  it('takes another mini program by appId; an unknown one is UNKNOWN_APP', async () => {
    const b = await start(undefined, { appId: 'wx0000000000second' })
    expect(b.appId).toBe('wx0000000000second')
    expectError(
      await call('POST', '/auth/scan', { json: { appId: 'wxnotours' } }),
      400,
      'UNKNOWN_APP',
    )
    expectError(await call('POST', '/auth/scan', { json: { appId: 7 } }), 400, 'INVALID_REQUEST')
  })

  it('an access token WeChat no longer takes is fetched again, and the code made', async () => {
    await start()
    const before = await stableTokenCalls({ invalidate: true })
    const scan = await start()
    expect(pngText(decode(scan.qrcode)).scene).toBe(scan.ticket)
    expect(await stableTokenCalls()).toBeGreaterThan(before)
  })

  it('a page WeChat refuses is the upstream’s error, not a ticket', async () => {
    const app = appWith({ WECHAT_SCAN_PAGE: 'other/page' } as never)
    const res = await call('POST', '/auth/scan', { json: {} }, app)
    expectError(res, 502, 'UPSTREAM_ERROR')
  })
})

describe('the whole flow', () => {
  it('confirmed by the logged-in mini program user: the PC gets a new session of that user, once', async () => {
    const phone = await login()
    const scan = await start()
    expect((await poll(scan.ticket)).body).toEqual({ status: 'pending' })
    const scanned = await step(scan.ticket, 'scanned', phone.token)
    expect(scanned.body).toEqual({ ok: true, pc: { requestedAt: expect.any(Number) } })
    expect((await poll(scan.ticket)).body).toEqual({ status: 'scanned' })
    expect((await step(scan.ticket, 'confirm', phone.token)).status).toBe(200)

    const pc = await poll(scan.ticket, undefined, { 'User-Agent': 'Mozilla/5.0 (Windows NT 10.0)' })
    expect(pc.status, pc.text).toBe(200)
    expect(pc.body).toMatchObject({ status: 'confirmed', tokenType: 'JWT' })
    expect(pc.body.user.id).toBe(phone.user.id)
    expect(pc.headers.get('Cache-Control')).toBe('no-store')

    // The PC's token works, is the same user, and the PC is a device of its own.
    const me = await call('GET', '/me', { token: pc.body.token })
    expect(me.status).toBe(200)
    expect(me.body.user?.id ?? me.body.id).toBe(phone.user.id)
    const sessions = await call('GET', '/auth/sessions', { token: phone.token })
    expect(sessions.body.sessions).toHaveLength(2)
    const pcDevice = sessions.body.sessions.find((s: { current: boolean }) => !s.current)
    expect(pcDevice.device).toMatchObject({
      platform: 'pc-scan',
      userAgent: 'Mozilla/5.0 (Windows NT 10.0)',
    })
    // Its refresh token refreshes.
    const refreshed = await call('POST', '/auth/refresh', {
      json: { refreshToken: pc.body.refreshToken },
    })
    expect(refreshed.status).toBe(200)

    // Read twice: the login was handed out.
    expectError(await poll(scan.ticket), 409, 'SCAN_TICKET_USED')
    // Confirmed twice.
    expectError(await step(scan.ticket, 'confirm', phone.token), 409, 'SCAN_TICKET_USED')
  })

  it('scanned tells the mini program which PC asked, to show before confirming; twice, the same', async () => {
    const phone = await login()
    const pcBrowser = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Chrome/130.0'
    const res = await call('POST', '/auth/scan', { json: {}, headers: { 'User-Agent': pcBrowser } })
    expect(res.status).toBe(200)
    const before = Math.floor(Date.now() / 1000)
    const first = await step(res.body.ticket, 'scanned', phone.token)
    expect(first.body).toEqual({
      ok: true,
      pc: { userAgent: pcBrowser, requestedAt: expect.any(Number) },
    })
    expect(Math.abs(first.body.pc.requestedAt - before)).toBeLessThan(60)
    expect((await step(res.body.ticket, 'scanned', phone.token)).body).toEqual(first.body)
    // The ticket still confirms, and the PC still collects.
    expect((await step(res.body.ticket, 'confirm', phone.token)).status).toBe(200)
    expect((await poll(res.body.ticket)).body.status).toBe('confirmed')
  })

  it('two polls at once: exactly one gets the login', async () => {
    const phone = await login()
    const scan = await start()
    await step(scan.ticket, 'confirm', phone.token)
    const answers = await Promise.all([poll(scan.ticket), poll(scan.ticket), poll(scan.ticket)])
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1)
    for (const a of answers.filter((a) => a.status !== 200)) expectError(a, 409, 'SCAN_TICKET_USED')
  })

  it('confirmed twice (before the PC read it): SCAN_TICKET_USED', async () => {
    const phone = await login()
    const other = await login()
    const scan = await start()
    expect((await step(scan.ticket, 'confirm', phone.token)).status).toBe(200)
    expectError(await step(scan.ticket, 'confirm', other.token), 409, 'SCAN_TICKET_USED')
    expectError(await step(scan.ticket, 'deny', phone.token), 409, 'SCAN_TICKET_USED')
    const pc = await poll(scan.ticket)
    expect(pc.body.user.id).toBe(phone.user.id)
  })

  it('the confirming session ended before the PC collected (logout, logout-all): no PC session', async () => {
    for (const leave of ['/auth/logout', '/auth/logout-all']) {
      const phone = await login()
      const other = await login(phone.openid)
      const scan = await start()
      expect((await step(scan.ticket, 'confirm', phone.token)).status).toBe(200)
      expect((await call('POST', leave, { token: phone.token })).status).toBe(200)
      expectError(await poll(scan.ticket), 410, 'SCAN_TICKET_EXPIRED')
      expectError(await poll(scan.ticket), 409, 'SCAN_TICKET_USED')
      if (leave === '/auth/logout') {
        const sessions = await call('GET', '/auth/sessions', { token: other.token })
        expect(sessions.body.sessions).toHaveLength(1)
      }
    }
  })

  it('denied: the PC hears denied, and nothing can confirm it', async () => {
    const phone = await login()
    const scan = await start()
    expect((await step(scan.ticket, 'deny', phone.token)).status).toBe(200)
    expect((await step(scan.ticket, 'deny', phone.token)).status).toBe(200)
    expect((await poll(scan.ticket)).body).toEqual({ status: 'denied' })
    expectError(await step(scan.ticket, 'confirm', phone.token), 409, 'SCAN_TICKET_USED')
    expect((await poll(scan.ticket)).body).toEqual({ status: 'denied' })
  })

  it('a logged-out or anonymous mini program cannot confirm (401); the ticket stays pending', async () => {
    const phone = await login()
    const scan = await start()
    expectError(await step(scan.ticket, 'confirm'), 401, 'AUTH_REQUIRED')
    expect((await call('POST', '/auth/logout', { token: phone.token })).status).toBe(200)
    const res = await step(scan.ticket, 'confirm', phone.token)
    expect(res.status, res.text).toBe(401)
    expectError(await step(scan.ticket, 'deny'), 401, 'AUTH_REQUIRED')
    expect((await poll(scan.ticket)).body).toEqual({ status: 'pending' })
  })

  it('expired: the PC hears expired, the mini program SCAN_TICKET_EXPIRED', async () => {
    const { t, now } = clock()
    const app = served(testApp({ now }))
    const phone = await login(undefined, app)
    const scan = await start(app)
    t.now += 301
    expect((await poll(scan.ticket, app)).body).toEqual({ status: 'expired' })
    expectError(await step(scan.ticket, 'confirm', phone.token, app), 410, 'SCAN_TICKET_EXPIRED')
    expectError(await step(scan.ticket, 'scanned', phone.token, app), 410, 'SCAN_TICKET_EXPIRED')
  })

  it('a confirmation late in the ticket’s life still leaves the PC a minute to collect it', async () => {
    const { t, now } = clock()
    const app = served(testApp({ now }))
    const phone = await login(undefined, app)
    const scan = await start(app)
    t.now += 290
    expect((await step(scan.ticket, 'confirm', phone.token, app)).status).toBe(200)
    t.now += 30
    expect((await poll(scan.ticket, app)).body.status).toBe('confirmed')
  })

  it('SCAN_TTL_SECONDS sets the ticket’s life', async () => {
    const app = appWith({ SCAN_TTL_SECONDS: '60' } as never)
    const before = Date.now()
    const scan = await start(app)
    expect(Date.parse(scan.expiresAt) - before).toBeLessThanOrEqual(61_000)
  })
})

describe('malformed and unknown tickets: never a 500', () => {
  it.each([
    ['short', 'abc'],
    ['too long', 'a'.repeat(33)],
    ['other characters', `${'a'.repeat(31)}%`],
    ['dots', `${'a'.repeat(30)}..`],
  ])('%s: 400 INVALID_REQUEST', async (_, ticket) => {
    const phone = await login()
    const path = encodeURIComponent(ticket)
    expectError(await poll(path), 400, 'INVALID_REQUEST')
    expectError(await step(path, 'confirm', phone.token), 400, 'INVALID_REQUEST')
    expectError(await step(path, 'deny', phone.token), 400, 'INVALID_REQUEST')
    expectError(await step(path, 'scanned', phone.token), 400, 'INVALID_REQUEST')
  })

  it('a well-formed ticket never issued: expired to the PC, SCAN_TICKET_EXPIRED to the mini program', async () => {
    const phone = await login()
    const ticket = 'A'.repeat(32)
    expect((await poll(ticket)).body).toEqual({ status: 'expired' })
    expect((await poll(ticket)).body).toEqual({ status: 'expired' })
    expectError(await step(ticket, 'confirm', phone.token), 410, 'SCAN_TICKET_EXPIRED')
  })
})

describe('the scan variables', () => {
  it.each([
    [{ SCAN_TTL_SECONDS: '10' }, 'SCAN_TTL_SECONDS'],
    [{ SCAN_TTL_SECONDS: '3600' }, 'SCAN_TTL_SECONDS'],
    [{ WECHAT_SCAN_PAGE: '/pages/scan/index' }, 'WECHAT_SCAN_PAGE'],
    [{ WECHAT_SCAN_PAGE: 'pages/scan/index?x=1' }, 'WECHAT_SCAN_PAGE'],
    [{ WECHAT_SCAN_ENV_VERSION: 'beta' }, 'WECHAT_SCAN_ENV_VERSION'],
  ])('%o is CONFIG_INVALID naming %s', (vars, name) => {
    expect(configError({ ...testEnv, ...vars } as never)).toContain(name)
  })

  it('trial and develop open an unpublished page (check_path false)', async () => {
    const app = appWith({
      WECHAT_SCAN_PAGE: 'other/page',
      WECHAT_SCAN_ENV_VERSION: 'trial',
    } as never)
    const scan = await start(app)
    expect(pngText(decode(scan.qrcode))).toMatchObject({ page: 'other/page', env_version: 'trial' })
  })
})
