import { createApp } from './app'
import { devRoutes } from './emulator/dev-routes'
import { PLAYGROUND_HTML } from './emulator/playground'
import type { BuiltPush } from './emulator/push'
import { emulatorStub } from './emulator/stub'
import { WxaAuthError } from './errors'

/**
 * The deployable Worker. In the dev environment (wrangler.toml `[env.dev]`)
 * the WeChat emulator is bound: its control surface answers on
 * `/__emulator/*`, the playground on `/` and the SDK's test routes on
 * `/__dev/*`; elsewhere they are 404s like any unknown path.
 */
const app = createApp()

app.get('/', (c) => {
  if (!c.env.WECHAT_EMULATOR) throw new WxaAuthError('NOT_FOUND')
  return c.html(PLAYGROUND_HTML)
})

// The emulator builds a push as WeChat would; the Worker delivers it to its own
// /wechat/events (an object cannot call the Worker that holds its binding).
app.post('/__emulator/events', async (c) => {
  if (!c.env.WECHAT_EMULATOR) throw new WxaAuthError('NOT_FOUND')
  const built = await emulatorStub(c.env).fetch('http://emulator/__emulator/push', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: await c.req.text(),
  })
  if (!built.ok) return built
  const push = await built.json<BuiltPush>()
  const delivered = await app.fetch(
    new Request(new URL(`/wechat/events?${push.query}`, c.req.url), {
      method: 'POST',
      headers: { 'Content-Type': push.contentType },
      body: push.body,
    }),
    c.env,
    c.executionCtx,
  )
  return c.json({ status: delivered.status, answer: await delivered.text() })
})

app.all('/__emulator/*', (c) => {
  if (!c.env.WECHAT_EMULATOR) throw new WxaAuthError('NOT_FOUND')
  return emulatorStub(c.env).fetch(c.req.raw)
})

// Routes the client SDK's tests upload to, download from and fail on; dev only too.
app.route('/__dev', devRoutes())

export default app
export { WeChatEmulator } from './emulator/emulator'
export { UserSessions } from './session/object'
