import { DurableObject } from 'cloudflare:workers'
import type { Hono } from 'hono'
import { emulatorApp } from './app'
import type { EmulatorEnv } from './wechat/state'

export { ACCESS_TOKEN_LIFETIME, CODE_TTL, PHONE_CODE_TTL } from './wechat/state'

/**
 * A stand-in for the platforms' APIs (api.weixin.qq.com, Douyin's and QQ's
 * code2Session), for development and tests only. It speaks each platform's
 * request and response shapes and error codes, and keeps per-user state
 * (session_key, single-use codes, rate windows, faults) in its storage; one
 * object plays them all. `/__emulator/*` is its control surface; see the README.
 */
export class PlatformEmulator extends DurableObject<EmulatorEnv> {
  readonly #app: Hono

  constructor(ctx: DurableObjectState, env: EmulatorEnv) {
    super(ctx, env)
    this.#app = emulatorApp(ctx.storage, env)
  }

  override fetch(request: Request): Response | Promise<Response> {
    return this.#app.fetch(request)
  }
}

/**
 * The emulator by its 0.3 name, for a `wrangler.toml` whose `class_name` says
 * `WeChatEmulator`: the same object (its storage stays with that class name).
 *
 * @deprecated since 0.4: export and bind {@link PlatformEmulator}
 */
export class WeChatEmulator extends PlatformEmulator {}
