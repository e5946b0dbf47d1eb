import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { type PlatformIdentity, type WxaEnv, wxaAuth } from '../src/index'
import { cloudflare, type WxaBindings } from '../src/runtime/cloudflare/index'
import { emulatorUpstream } from '../src/testing'
import { call, codeFor, expectError, newOpenid, served, testEnv } from './helpers'

// An example of the library in use: a shop's own Hono app mounts wxa-auth
// under /api, keeps its users in its own KV records through the hooks, and
// protects its own routes with requireLogin().

interface Shopper {
  id: string
  name: string
  tier: 'basic' | 'gold'
}

const USERS = 'shop-user:' // the shop's own key prefix

async function findOrCreateShopper({ openid }: PlatformIdentity): Promise<Shopper> {
  const key = `${USERS}${openid}`
  const known = await testEnv.SESSIONS.get<Shopper>(key, 'json')
  if (known) return known
  const shopper: Shopper = { id: `s-${crypto.randomUUID()}`, name: 'new shopper', tier: 'basic' }
  await testEnv.SESSIONS.put(key, JSON.stringify(shopper))
  return shopper
}

type ShopEnv = WxaEnv<Shopper, { Bindings: WxaBindings }>
const auth = wxaAuth<Shopper, ShopEnv>({
  runtime: cloudflare(),
  upstream: emulatorUpstream(),
  findOrCreateUser: findOrCreateShopper,
  userToClaims: (shopper) => ({ name: shopper.name, tier: shopper.tier }),
  claimsToUser: (claims) => ({
    id: claims.sub,
    name: String(claims.name),
    tier: claims.tier === 'gold' ? 'gold' : 'basic',
  }),
})

const shop = new Hono<ShopEnv>()
shop.onError(auth.onError)
shop.use(auth.middleware)
shop.route('/api/auth', auth.routes)
shop.get('/api/cart', auth.requireLogin, (c) => {
  const cart = c.var.session.get<string[]>('cart') ?? []
  return c.json({ shopper: c.var.user, cart })
})
shop.post('/api/cart/:item', auth.requireLogin, (c) => {
  const cart = [...(c.var.session.get<string[]>('cart') ?? []), c.req.param('item')]
  c.var.session.set('cart', cart)
  return c.json({ cart })
})
shop.get('/', (c) => c.text(c.var.user ? `hello ${c.var.user.name}` : 'hello guest'))

describe('wxa-auth mounted in another Hono app', () => {
  const app = served(shop)

  it('logs in under /api with the app’s own user store and protects its routes', async () => {
    const openid = newOpenid()
    expectError(await call('GET', '/api/cart', {}, app), 401, 'AUTH_REQUIRED')
    expect((await call('GET', '/', {}, app)).text).toBe('hello guest')

    const res = await call(
      'POST',
      '/api/auth/login',
      { json: { code: await codeFor(openid) } },
      app,
    )
    expect(res.status, res.text).toBe(200)
    const shopper = res.body.user as Shopper
    expect(shopper).toEqual({
      id: expect.stringMatching(/^s-/),
      name: 'new shopper',
      tier: 'basic',
    })
    expect(await testEnv.SESSIONS.get(`${USERS}${openid}`, 'json')).toEqual(shopper)

    const token = res.body.token
    await call('POST', '/api/cart/tea', { token }, app)
    await call('POST', '/api/cart/cake', { token }, app)
    const cart = await call('GET', '/api/cart', { token }, app)
    expect(cart.body).toEqual({ shopper, cart: ['tea', 'cake'] })
    expect((await call('GET', '/', { token }, app)).text).toBe('hello new shopper')

    // The same WeChat user is the same shopper at the next login.
    const again = await call(
      'POST',
      '/api/auth/login',
      { json: { code: await codeFor(openid) } },
      app,
    )
    expect(again.body.user.id).toBe(shopper.id)
  })
})
