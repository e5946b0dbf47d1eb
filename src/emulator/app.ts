import { Hono } from 'hono'
import { alipayApi } from './alipay/api'
import { douyinApi } from './douyin/api'
import { qqApi } from './qq/api'
import type { EmulatorStorage } from './storage'
import { EMULATOR_FACES } from './stub'
import { wechatApi } from './wechat/api'
import { controlSurface } from './wechat/control'
import { oauthApi } from './wechat/oauth'
import { securityApi } from './wechat/security'
import { type EmulatorEnv, emulatorState } from './wechat/state'

/**
 * The emulator as a Hono app over its storage: each platform's server API
 * paths and the control surface (`/__emulator/*`). Douyin's and QQ's faces
 * answer on their own hosts (`douyin.emulator.invalid`, `qq.emulator.invalid`:
 * QQ's paths are WeChat's); any other host is WeChat and the control surface.
 * The `PlatformEmulator` Durable Object serves it in workerd; a plain Node
 * server can serve it too.
 */
export function emulatorApp(storage: EmulatorStorage, env: EmulatorEnv): Hono {
  const state = emulatorState(storage, env)
  const douyin = new Hono()
  douyinApi(douyin, state)
  const qq = new Hono()
  qqApi(qq, state)
  const alipay = new Hono()
  const app = new Hono()
  alipayApi(alipay, app, state)
  const faces: Record<string, Hono> = {
    [EMULATOR_FACES.douyin]: douyin,
    [EMULATOR_FACES.qq]: qq,
    [EMULATOR_FACES.alipay]: alipay,
  }
  app.use(async (c, next) => {
    const face = faces[new URL(c.req.url).hostname]
    if (face) return face.fetch(c.req.raw)
    await next()
  })
  wechatApi(app, state)
  oauthApi(app, state)
  securityApi(app, state)
  controlSurface(app, state)
  return app
}
