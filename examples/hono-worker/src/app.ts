import { Hono } from 'hono'
import { type DefaultUser, type WxaAuthOptions, type WxaEnv, wxaAuth } from 'wxa-auth'
import { cloudflare, type WxaBindings } from 'wxa-auth/cloudflare'

// The app's env: wxa-auth's bindings and its own (none here), and wxa-auth's variables.
export type AppEnv = WxaEnv<DefaultUser, { Bindings: WxaBindings }>

/**
 * The app: wxa-auth's routes under /auth, the session on every request, and
 * routes of its own behind requireLogin. The development entry passes the
 * emulator as `upstream`; production passes nothing.
 */
export function makeApp(upstream?: WxaAuthOptions<DefaultUser, AppEnv>['upstream']) {
  const auth = wxaAuth<DefaultUser, AppEnv>({
    runtime: cloudflare(),
    ...(upstream ? { upstream } : {}),
  })
  const app = new Hono<AppEnv>()
  app.onError(auth.onError)
  app.use(auth.middleware)
  app.route('/auth', auth.routes)

  app.get('/', (c) => c.json({ hello: c.var.user ? c.var.user.id : 'guest' }))

  app.get('/orders', auth.requireLogin, (c) => {
    const orders = c.var.session.get<string[]>('orders') ?? []
    return c.json({ user: c.var.user, orders })
  })

  app.post('/orders/:item', auth.requireLogin, (c) => {
    const orders = [...(c.var.session.get<string[]>('orders') ?? []), c.req.param('item')]
    c.var.session.set('orders', orders)
    return c.json({ orders })
  })
  return app
}
