import type { Context } from 'hono'
import type { WxaConfig } from '../config'
import { type Logger, WxaAuthError } from '../errors'
import type { UserHooks } from '../hooks'
import type { App } from '../platforms/index'

/** What a flow runs with: the configuration, the hooks and the time. It knows nothing of HTTP. */
export interface FlowContext<User extends { id: string }> {
  config: WxaConfig
  hooks: Required<UserHooks<User>>
  /** Whether the app brings its own `findOrCreateUser`. */
  ownUsers: boolean
  /** Unix seconds, read once at the start. */
  now: number
  /** Handed to the hooks as it is (the request's context). */
  c: Context
  /** Where detail for operators goes. */
  log: Logger
}

/** The app `appId` names, or `UNKNOWN_APP`. */
export function appOf(config: WxaConfig, appId: string | null | undefined): App {
  const app = appId ? config.apps.get(appId) : undefined
  if (!app) throw new WxaAuthError('UNKNOWN_APP')
  return app
}
