// A host app with bindings and a user type of its own: typed end to end, no casts.
import { Hono } from 'hono'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { type WxaEnv, wxaAuth } from '../src/index'
import { cloudflare, type WxaBindings } from '../src/runtime/cloudflare/index'
import { node } from '../src/runtime/node/runtime'
import type { Session } from '../src/session/session'
import { emulatorUpstream } from '../src/testing'
import { call, codeFor, newOpenid, served, testEnv } from './helpers'

interface Member {
  id: string
  nickname: string
  role: 'member' | 'admin'
}
type Bindings = WxaBindings & { GREETING: string }
type AppEnv = WxaEnv<Member, { Bindings: Bindings; Variables: { requestId: string } }>

/** The same host app on either runtime: `cloudflare()` or `node()`, no casts. */
function hostApp(runtime: 'cloudflare' | 'node') {
  const auth = wxaAuth<Member, AppEnv>({
    runtime:
      runtime === 'cloudflare'
        ? cloudflare()
        : node({ env: { ...testEnv, GREETING: 'hi' } as never, log: quiet }),
    upstream: emulatorUpstream(),
    findOrCreateUser: ({ openid }) => ({ id: `m-${openid}`, nickname: 'new', role: 'member' }),
    userToClaims: (member) => ({ role: member.role, nickname: member.nickname }),
    claimsToUser: (claims) => ({
      id: claims.sub,
      nickname: String(claims.nickname),
      role: claims.role === 'admin' ? 'admin' : 'member',
    }),
  })
  const app = new Hono<AppEnv>()
  app.onError(auth.onError)
  app.use(async (c, next) => {
    c.set('requestId', 'r-1')
    await next()
  })
  app.use(auth.middleware)
  app.route('/auth', auth.routes)
  app.get('/hello', auth.requireLogin, (c) => {
    expectTypeOf(c.env.GREETING).toEqualTypeOf<string>()
    expectTypeOf(c.var.user).toEqualTypeOf<Member | null>()
    expectTypeOf(c.var.session).toEqualTypeOf<Session>()
    expectTypeOf(c.var.requestId).toEqualTypeOf<string>()
    return c.json({
      greeting: `${c.env.GREETING}, ${c.var.user?.nickname}`,
      role: c.var.user?.role,
    })
  })
  return app
}

const quiet = { log() {}, warn() {}, error() {} }

describe('a host app’s own env and user type', () => {
  it.each(['cloudflare', 'node'] as const)(
    'types the bindings, the user and its own variables without casts, and runs (%s)',
    async (runtime) => {
      const env = { ...testEnv, GREETING: 'hi' }
      const host = served(hostApp(runtime), env)
      const login = await call(
        'POST',
        '/auth/login',
        { json: { code: await codeFor(newOpenid()) } },
        host,
      )
      expect(login.status, login.text).toBe(200)
      const hello = await call('GET', '/hello', { token: login.body.token }, host)
      expect(hello.body).toEqual({ greeting: 'hi, new', role: 'member' })
    },
  )
})
