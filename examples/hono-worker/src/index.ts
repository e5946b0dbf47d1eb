import { Hono } from 'hono'
import { authRoutes, onError, requireLogin, type WxaEnv, wxaSession } from 'wxa-auth'

// The app: wxa-auth's routes under /auth, the session on every request, and
// routes of its own behind requireLogin().
const app = new Hono<WxaEnv>()
app.onError(onError)
app.use(wxaSession())
app.route('/auth', authRoutes())

app.get('/', (c) => c.json({ hello: c.var.user ? c.var.user.id : 'guest' }))

app.get('/orders', requireLogin(), (c) => {
  const orders = c.var.session.get<string[]>('orders') ?? []
  return c.json({ user: c.var.user, orders })
})

app.post('/orders/:item', requireLogin(), (c) => {
  const orders = [...(c.var.session.get<string[]>('orders') ?? []), c.req.param('item')]
  c.var.session.set('orders', orders)
  return c.json({ orders })
})

export default app
// The Durable Object class of the USER_SESSIONS binding (wrangler.toml).
export { UserSessions } from 'wxa-auth'
