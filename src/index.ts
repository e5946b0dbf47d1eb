import { createApp } from './app'
import { emulatorStub } from './emulator/stub'
import { WxaAuthError } from './errors'

/**
 * The deployable Worker. In the dev environment (wrangler.toml `[env.dev]`)
 * the WeChat emulator is bound and its control surface answers on
 * `/__emulator/*`; elsewhere that path is a 404 like any unknown path.
 */
const app = createApp()

app.all('/__emulator/*', (c) => {
  if (!c.env.WECHAT_EMULATOR) throw new WxaAuthError('NOT_FOUND')
  return emulatorStub(c.env).fetch(c.req.raw)
})

export default app
export { WeChatEmulator } from './emulator/emulator'
