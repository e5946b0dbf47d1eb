// CORS for H5 builds (Taro, uni-app in a browser), opt in with CORS_ORIGINS:
// preflights and actual requests from an allowed origin get it, a refused
// origin gets no Access-Control-Allow-Origin, and without CORS_ORIGINS no
// Access-Control-* header is ever sent.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import type { WxaBindings } from '../src/env'
import type { WxaEnv } from '../src/middleware/session'
import {
  appWith,
  call,
  configError,
  expectError,
  type Fetcher,
  login,
  production,
  served,
  testAuth,
  testEnv,
} from './helpers'

const H5 = 'https://h5.shop.example'
const DEV = 'http://localhost:5173'
const ORIGINS = { CORS_ORIGINS: `${H5}  ${DEV}` }

/** A browser's preflight of a POST with a token and a JSON body. */
const preflightInit = (origin: string): RequestInit => ({
  method: 'OPTIONS',
  headers: {
    Origin: origin,
    'Access-Control-Request-Method': 'POST',
    'Access-Control-Request-Headers': 'authorization,content-type',
  },
})
const preflight = (app: Fetcher, origin: string, path = '/auth/login') =>
  app.fetch(`http://wxa.test${path}`, preflightInit(origin))

const accessHeaders = (res: Response) =>
  [...res.headers].filter(([name]) => name.startsWith('access-control-')).map(([name]) => name)

describe('CORS_ORIGINS', () => {
  it('answers a preflight from an allowed origin: that origin, the methods and headers asked, no credentials', async () => {
    const app = appWith(ORIGINS)
    for (const origin of [H5, DEV]) {
      const res = await preflight(app, origin)
      expect(res.status).toBe(204)
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe(origin)
      expect(res.headers.get('Access-Control-Allow-Methods')).toContain('POST')
      expect(res.headers.get('Access-Control-Allow-Headers')).toBe('authorization,content-type')
      expect(res.headers.get('Access-Control-Max-Age')).toBe('600')
      expect(res.headers.get('Access-Control-Allow-Credentials')).toBeNull()
      expect(res.headers.get('Vary')).toContain('Origin')
    }
  })

  it('gives an actual request from an allowed origin the origin and the headers the SDK reads', async () => {
    const app = appWith(ORIGINS)
    const { token } = await login(undefined, app)
    const me = await call('GET', '/me', { token, headers: { Origin: H5 } }, app)
    expect(me.status).toBe(200)
    expect(me.headers.get('Access-Control-Allow-Origin')).toBe(H5)
    expect(me.headers.get('Access-Control-Expose-Headers')).toBe('Retry-After,WWW-Authenticate')
    expect(me.headers.get('Vary')).toBe('Origin')
    // An error answer too: the page must be able to read why.
    const refused = await call('GET', '/me', { headers: { Origin: H5 } }, app)
    expectError(refused, 401, 'AUTH_REQUIRED')
    expect(refused.headers.get('Access-Control-Allow-Origin')).toBe(H5)
  })

  it('gives a refused origin no Access-Control-Allow-Origin, on a preflight or a request', async () => {
    const app = appWith(ORIGINS)
    for (const origin of [
      'https://evil.example',
      `${H5}.evil.example`,
      'null',
      H5.replace('https', 'http'),
    ]) {
      const res = await preflight(app, origin)
      expect(res.headers.get('Access-Control-Allow-Origin'), origin).toBeNull()
      const health = await call('GET', '/me', { headers: { Origin: origin } }, app)
      expect(health.headers.get('Access-Control-Allow-Origin'), origin).toBeNull()
    }
  })

  it('sends no Access-Control-* header at all when unset', async () => {
    const app = appWith({})
    const res = await preflight(app, H5)
    expect(accessHeaders(res)).toEqual([])
    expect(res.status).toBe(404)
    const me = await call('GET', '/me', { headers: { Origin: H5 } }, app)
    expect(accessHeaders(new Response(null, { headers: me.headers }))).toEqual([])
  })

  it.each([['*'], [`${H5}/`], [`${H5}/app`], ['h5.shop.example'], ['ftp://h5.shop.example']])(
    'refuses %s: exact origins only',
    (entry) => {
      // Then how to set it on this runtime (wrangler.toml on Workers).
      expect(configError(production({ CORS_ORIGINS: `${DEV} ${entry}` }))).toMatch(
        /^CORS_ORIGINS: entry 2 is not an origin \(http\(s\):\/\/host\[:port\], no path; \* is not allowed\)\. Set it in wrangler\.toml \[vars\]/,
      )
    },
  )

  it("is the factory's too: its routes carry it, and auth.cors covers the host's own routes once", async () => {
    const auth = testAuth()
    const app = new Hono<WxaEnv>()
    app.onError(auth.onError)
    app.use(auth.cors)
    app.use(auth.middleware)
    app.route('/auth', auth.routes)
    app.get('/orders', (c) => c.json({ user: c.var.user }))
    const env = { ...testEnv, ...ORIGINS } as WxaBindings
    const host = served(app, env)
    const orders = await call('GET', '/orders', { headers: { Origin: H5 } }, host)
    expect(orders.headers.get('Access-Control-Allow-Origin')).toBe(H5)
    const login = await call('POST', '/auth/login', { json: {}, headers: { Origin: H5 } }, host)
    expect(login.headers.get('Access-Control-Allow-Origin')).toBe(H5)
    expect(login.headers.get('Vary')).toBe('Origin') // once, though mounted twice

    // Without app.use(auth.cors), the routes still answer the preflight themselves.
    const bare = new Hono<WxaEnv>()
    bare.use(auth.middleware)
    bare.route('/auth', auth.routes)
    const res = await bare.request('/auth/login', preflightInit(H5), env)
    expect([res.status, res.headers.get('Access-Control-Allow-Origin')]).toEqual([204, H5])
  })
})
