import { Hono } from 'hono'
import { describe, expect, it, vi } from 'vitest'
import { ERRORS, type Logger, WxaAuthError } from '../src/errors'
import { requireLogin } from '../src/middleware/require-login'
import type { WxaEnv } from '../src/middleware/session'
import {
  call,
  codeFor,
  emulate,
  expectError,
  newOpenid,
  served,
  testApp,
  testAuth,
} from './helpers'

describe('WxaAuthError.getResponse()', () => {
  it("answers the code's JSON error with its status and headers, for host apps without onError", async () => {
    const app = new Hono<WxaEnv>()
    app.use(testAuth().middleware)
    app.get('/private', requireLogin(), (c) => c.json({ ok: true }))
    // The host's own error handler, knowing nothing of wxa-auth's codes.
    app.onError((err) =>
      err instanceof WxaAuthError ? err.getResponse() : new Response('oops', { status: 500 }),
    )
    const res = await call('GET', '/private', {}, served(app))
    expectError(res, 401, 'AUTH_REQUIRED')
    expect(res.headers.get('www-authenticate')).toBe('JWT realm="wxa-auth"')
    expect(res.headers.get('cache-control')).toBe('no-store')
    const limited = new WxaAuthError('RATE_LIMITED', undefined, { retryAfter: 60 }).getResponse()
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('60')
  })

  it('takes each status and default message from the one table', () => {
    for (const [code, { status, message }] of Object.entries(ERRORS)) {
      const err = new WxaAuthError(code as keyof typeof ERRORS)
      expect([err.status, err.message]).toEqual([status, message])
    }
  })
})

describe('the log option', () => {
  it('receives the detail; wxa-auth writes nothing to the console itself', async () => {
    const lines: string[] = []
    const log: Logger = {
      error: (...args: unknown[]) => void lines.push(`error ${args.join(' ')}`),
      warn: (...args: unknown[]) => void lines.push(`warn ${args.join(' ')}`),
    }
    const spies = (['log', 'info', 'warn', 'error'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation(() => {}),
    )
    try {
      const app = served(testApp({ log }))
      const openid = newOpenid()
      const code = await codeFor(openid)
      await emulate(openid, { fault: 'http500', times: 1 })
      // Without CF-Connecting-IP, which is said once in the log too.
      const res = await app.fetch('http://wxa.test/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code }),
      })
      expect(res.status).toBeGreaterThanOrEqual(500)
      expect(lines.some((l) => l.startsWith('error wxa-auth UPSTREAM_'))).toBe(true)
      expect(lines.some((l) => l.includes('CF-Connecting-IP'))).toBe(true)
      for (const spy of spies) expect(spy).not.toHaveBeenCalled()
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
  })
})
