import { createApp } from './app'
import { devRoutes } from './emulator/dev-routes'
import { PLAYGROUND_HTML } from './emulator/playground'
import { emulatorStub } from './emulator/stub'

/**
 * The development Worker (`[env.dev]`: `npm run dev` and the tests): the
 * deployable Worker plus the WeChat emulator's control surface on
 * `/__emulator/*`, the playground on `/` and the SDK's test routes on
 * `/__dev/*`. The production entry (`src/index.ts`) imports none of them.
 */
const app = createApp()

app.get('/', (c) => c.html(PLAYGROUND_HTML))
app.all('/__emulator/*', (c) => emulatorStub(c.env).fetch(c.req.raw))
// Routes the client SDK's tests upload to, download from and fail on.
app.route('/__dev', devRoutes())

export default app
export { WeChatEmulator } from './emulator/emulator'
export { UserSessions } from './session/object'
