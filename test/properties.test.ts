import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ERROR_STATUS } from '../src/errors'
import { requireLogin } from '../src/middleware/require-login'
import { appWith, call, login, type Reply, served, testApp } from './helpers'

// Property-based tests: thousands of generated inputs; never a 5xx, and every
// 4xx is a JSON error whose code is one of ours, with that code's status.

const KNOWN = new Set(Object.keys(ERROR_STATUS))

function expectCleanAnswer(res: Reply) {
  expect(res.status, res.text).toBeLessThan(500)
  if (res.status >= 400) {
    expect(KNOWN.has(res.body?.error?.code), res.text).toBe(true)
    expect(ERROR_STATUS[res.body.error.code as keyof typeof ERROR_STATUS]).toBe(res.status)
    expect(typeof res.body.error.message).toBe('string')
  }
}

const app = testApp()
app.get('/probe', requireLogin(), (c) => c.json({ ok: true }))
const probe = served(app)

/** Printable ASCII: what an HTTP header value can carry. */
const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n)),
  maxLength: 600,
})
const b64urlSegment = fc.string({
  unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
  maxLength: 200,
})

describe('properties', () => {
  // Thousands of refused inputs would each log a warning; the assertions are what count.
  beforeAll(() => void vi.spyOn(console, 'warn').mockImplementation(() => {}))
  afterAll(() => vi.restoreAllMocks())

  it('any Authorization header: 200 only for the real token, else a clean 401', async () => {
    const { token } = await login()
    const [h, p, s] = token.split('.') as [string, string, string]
    const mutate = fc
      .tuple(fc.nat({ max: token.length - 1 }), fc.constantFrom(...'Aa0_-.x'))
      .map(([i, ch]) => token.slice(0, i) + ch + token.slice(i + 1))
    const header = fc.oneof(
      headerText,
      fc
        .tuple(fc.constantFrom('JWT ', 'Bearer ', 'jwt ', 'Basic ', ''), headerText)
        .map(([a, b]) => a + b),
      fc
        .tuple(b64urlSegment, b64urlSegment, b64urlSegment)
        .map(([a, b, c]) => `JWT ${a}.${b}.${c}`),
      fc
        .tuple(
          fc.constantFrom(h, 'eyJhbGciOiJub25lIn0'),
          fc.constantFrom(p, ''),
          fc.constantFrom(s, '', 'AAAA'),
        )
        .map(([a, b, c]) => `JWT ${a}.${b}.${c}`),
      mutate.map((t) => `JWT ${t}`),
    )
    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        const res = await call('GET', '/probe', { headers: { Authorization: value } }, probe)
        expectCleanAnswer(res)
        const exact =
          value.trim().replace(/^(jwt|bearer) +/i, '') === token && /^(jwt|bearer) +/i.test(value)
        expect(res.status).toBe(exact ? 200 : 401)
      }),
      { numRuns: 2_000 },
    )
  })

  it('any login body: a clean 4xx', async () => {
    const code = fc.oneof(
      fc.string({ maxLength: 200 }),
      b64urlSegment,
      fc.integer(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
    )
    const body = fc.oneof(
      fc.string({ maxLength: 300 }).map((text) => ({ body: text })),
      fc.jsonValue({ maxDepth: 3 }).map((json) => ({ body: JSON.stringify(json) })),
      fc
        .record(
          { code, device: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }) },
          { requiredKeys: [] },
        )
        .map((json) => ({ body: JSON.stringify(json) })),
    )
    await fc.assert(
      fc.asyncProperty(body, async ({ body }) => {
        const res = await call('POST', '/auth/login', {
          body,
          headers: { 'Content-Type': 'application/json' },
        })
        expectCleanAnswer(res)
        expect(res.status).toBeGreaterThanOrEqual(400)
      }),
      { numRuns: 1_000 },
    )
  })

  it('any decrypt body: a clean 4xx', async () => {
    // Without the per-user limit, so that every input reaches the decryption.
    const unlimited = appWith({ USER_RATE_LIMITER: undefined, LOGIN_RATE_LIMITER: undefined })
    const { token } = await login(undefined, unlimited)
    const b64 = fc.string({
      unit: fc.constantFrom(
        ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= -_',
      ),
      maxLength: 120,
    })
    const body = fc.oneof(
      fc.record({ encryptedData: b64, iv: b64 }),
      fc.record(
        { encryptedData: fc.jsonValue({ maxDepth: 1 }), iv: fc.jsonValue({ maxDepth: 1 }) },
        { requiredKeys: [] },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    )
    await fc.assert(
      fc.asyncProperty(body, async (json) => {
        const res = await call(
          'POST',
          '/auth/decrypt',
          { token, body: JSON.stringify(json) },
          unlimited,
        )
        expectCleanAnswer(res)
        expect(res.status).toBeGreaterThanOrEqual(400)
      }),
      { numRuns: 500 },
    )
  })

  it('any session patch: a clean answer', async () => {
    const { token } = await login()
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j)),
          fc.string({ maxLength: 100 }),
        ),
        async (body) => {
          const res = await call('PATCH', '/me/session', { body, token })
          expectCleanAnswer(res)
        },
      ),
      { numRuns: 500 },
    )
  })
})
