import type { Context, Env } from 'hono'
import type { Upstream } from '../platforms/platform'
import { EMULATOR_APP_ID, EMULATOR_APP_SECRET, emulatorStub } from './stub'

/** What the emulators need in the Worker's env: their binding, and no real secret. */
interface EmulatedEnv {
  WECHAT_EMULATOR?: DurableObjectNamespace
  WECHAT_APP_SECRET?: string
  WECHAT_APP_SECRETS?: string
}

/**
 * The `upstream` option of a development entry: with the emulator bound
 * (`WECHAT_EMULATOR`) and no AppSecret set, WeChat is the emulator, reached
 * through the same client as WeChat itself. With a real AppSecret the same
 * Worker talks to WeChat. Never in a production entry.
 *
 * @example
 * ```ts
 * export default createApp({ runtime: cloudflare(), upstream: emulatorUpstream() })
 * ```
 */
export function emulatorUpstream<E extends Env>() {
  return (c: Context<E>): Partial<Record<string, Upstream>> | undefined => {
    const env = c.env as EmulatedEnv | undefined
    if (!env?.WECHAT_EMULATOR || env.WECHAT_APP_SECRET || env.WECHAT_APP_SECRETS) return undefined
    return {
      wechat: {
        // A stub belongs to the request that made it: one per call.
        fetch: (input, init) => emulatorStub(env).fetch(input, init),
        appSecret: EMULATOR_APP_SECRET,
        defaultAppId: EMULATOR_APP_ID,
      },
    }
  }
}
