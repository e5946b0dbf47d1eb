import type { Context } from 'hono'
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
 * test routes on `/__dev/*`. The production entry (`src/worker.ts`) imports
 * none of them.
 */
/** Bytes as base64, in chunks: an avatar is too big for one spread. */
function base64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 8192) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 8192))
  }
  return btoa(binary)
}

const app = createApp({ runtime: cloudflare(), upstream: emulatorUpstream() })

app.get('/', (c) => c.html(PLAYGROUND_HTML))
// The browser asks for it beside the playground; no icon rather than a 404 in its console.
app.get('/favicon.ico', (c) => c.body(null, 204))

/** `push` delivered to this Worker's /wechat/events, as WeChat delivers it. */
const deliver = (c: Context, push: BuiltPush) =>
  app.fetch(
    new Request(new URL(`/wechat/events?${push.query}`, c.req.url), {
      method: 'POST',
      headers: { 'Content-Type': push.contentType },
      body: push.body,
    }),
    c.env,
    c.executionCtx,
  )

// The emulator builds a push as WeChat would; the Worker delivers it to its own
// /wechat/events (an object cannot call the Worker that holds its binding).
app.post('/__emulator/events', async (c) => {
  const input: Record<string, unknown> = await c.req
    .json<Record<string, unknown>>()
    .catch(() => ({}))
  // As WeChat sends them to this Worker: encrypted once it has an EncodingAESKey.
  const mode =
    input.mode ??
    ((c.env as { WECHAT_EVENT_AES_KEY?: string }).WECHAT_EVENT_AES_KEY ? 'safe' : 'plain')
  const built = await emulatorStub(c.env as never).fetch('http://emulator/__emulator/push', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...input, mode }),
  })
  if (!built.ok) return built
  const delivered = await deliver(c, await built.json<BuiltPush>())
  return c.json({ status: delivered.status, answer: await delivered.text() })
})

// A cancellation as Alipay posts it to the application gateway, delivered to
// this Worker's /alipay/events.
app.post('/__emulator/alipay/cancel', async (c) => {
  const built = await emulatorStub(c.env as never).fetch(
    'http://emulator/__emulator/alipay/notify',
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: await c.req.text() },
  )
  if (!built.ok) return built
  const { body } = await built.json<{ body: string }>()
  const delivered = await app.fetch(
    new Request(new URL('/alipay/events', c.req.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    }),
    c.env,
    c.executionCtx,
  )
  return c.json({ status: delivered.status, answer: await delivered.text() })
})

// WeChat answers an image check by push, after fetching the image: here the
// Worker fetches it from itself, the emulator judges the bytes, and the
// verdict is delivered to /wechat/events, as WeChat would deliver it.
app.post('/__emulator/media-checks', async (c) => {
  const emulator = emulatorStub(c.env as never)
  const { checks } = await (await emulator.fetch('http://emulator/__emulator/media-checks')).json<{
    checks: { trace: string; mediaUrl: string }[]
  }>()
  const delivered = []
  for (const { trace, mediaUrl } of checks) {
    const image = await app.fetch(
      new Request(new URL(new URL(mediaUrl).pathname, c.req.url)),
      c.env,
      c.executionCtx,
    )
    const bytes = image.ok ? new Uint8Array(await image.arrayBuffer()) : new Uint8Array()
    const judged = await emulator.fetch(`http://emulator/__emulator/media-checks/${trace}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ bytes: base64(bytes) }),
    })
    const { suggest, push } = await judged.json<{ suggest: string; push: BuiltPush }>()
    const answer = await deliver(c, push)
    delivered.push({ trace, suggest, status: answer.status, answer: await answer.text() })
  }
  return c.json({ delivered })
})

mountEmulator(app)
// Routes the client SDK's tests upload to, download from and fail on.
app.route('/__dev', devRoutes() as never)

export default app
export { WeChatEmulator } from './emulator/emulator'
export { UserSessions } from './runtime/cloudflare/object'
