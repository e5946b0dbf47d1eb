import { createApp } from './app'
import { devRoutes } from './emulator/dev-routes'
import { PLAYGROUND_HTML } from './emulator/playground'
import type { BuiltPush } from './emulator/push'
import { mountEmulator } from './emulator/routes'
import { emulatorStub } from './emulator/stub'
import { emulatorUpstream } from './emulator/upstream'
import { cloudflare } from './runtime/cloudflare/runtime'

/**
 * The development Worker (`[env.dev]`: `npm run dev` and the tests): the
 * deployable Worker with the emulators injected as its upstream, their
 * control surface on `/__emulator/*`, the playground on `/` and the SDK's
 * test routes on `/__dev/*`. The production entry (`src/index.ts`) imports
 * none of them.
 */
const app = createApp({ runtime: cloudflare(), upstream: emulatorUpstream() })

app.get('/', (c) => c.html(PLAYGROUND_HTML))

// The emulator builds a push as WeChat would; the Worker delivers it to its own
// /wechat/events (an object cannot call the Worker that holds its binding).
app.post('/__emulator/events', async (c) => {
  const built = await emulatorStub(c.env as never).fetch('http://emulator/__emulator/push', {
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

mountEmulator(app)
// Routes the client SDK's tests upload to, download from and fail on.
app.route('/__dev', devRoutes() as never)

export default app
export { WeChatEmulator } from './emulator/emulator'
export { UserSessions } from './runtime/cloudflare/object'
