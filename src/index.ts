import { createApp } from './app'
import { devRoutes } from './emulator/dev-routes'
import { PLAYGROUND_HTML } from './emulator/playground'
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

app.all('/__emulator/*', (c) => {
  if (!c.env.WECHAT_EMULATOR) throw new WxaAuthError('NOT_FOUND')
  return emulatorStub(c.env).fetch(c.req.raw)
})

// Routes the client SDK's tests upload to, download from and fail on; dev only too.
app.route('/__dev', devRoutes())

export default app
export { WeChatEmulator } from './emulator/emulator'
export { UserSessions } from './session/object'
