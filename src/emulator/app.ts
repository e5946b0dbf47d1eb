import { Hono } from 'hono'
import type { EmulatorStorage } from './storage'
import { wechatApi } from './wechat/api'
import { controlSurface } from './wechat/control'
import { securityApi } from './wechat/security'
import { type EmulatorEnv, emulatorState } from './wechat/state'

/**
 * The emulator as a Hono app over its storage: WeChat's server API paths and
 * the control surface (`/__emulator/*`). The `WeChatEmulator` Durable Object
 * serves it in workerd; a plain Node server can serve it too.
 */
export function emulatorApp(storage: EmulatorStorage, env: EmulatorEnv): Hono {
  const app = new Hono()
  const state = emulatorState(storage, env)
  wechatApi(app, state)
  securityApi(app, state)
  controlSurface(app, state)
  return app
}
