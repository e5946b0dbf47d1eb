import type { Context, Env } from 'hono'
import { buildConfig, type UpstreamOf, type WxaConfig } from './config'
import type { Logger } from './errors'
import { type DefaultUser, defaultHooks, type UserHooks } from './hooks'
import { PLATFORMS } from './platforms/index'
import type { PlatformDefinition, Upstream } from './platforms/platform'
import type { WxaRuntime } from './runtime/runtime'

/**
 * The options of {@link wxaAuth} (and `createApp`): where the runtime's ports
 * are, the user model's hooks, a clock and a log. Resolved once per factory,
 * never per request.
 */
export interface WxaAuthOptions<User extends { id: string } = DefaultUser, E extends Env = Env>
  extends UserHooks<User> {
  /**
   * Where sessions, identities and claims live: `cloudflare()` from
   * `wxa-auth/cloudflare`, `node()` from `wxa-auth/node`, `memoryRuntime()`
   * from `wxa-auth/testing`.
   */
  runtime: WxaRuntime<E>
  /**
   * Where the platforms' APIs are instead of their servers, per request's
   * context: the emulators of a development entry (`emulatorUpstream()` from
   * `wxa-auth/testing`). Never set in production.
   */
  upstream?: (c: Context<E>) => Partial<Record<string, Upstream>> | undefined
  /** The current time, unix seconds. Tests pass a clock; nothing else should. @default Date.now */
  now?: () => number
  /**
   * The platforms served: their apps, login kinds and routes. Tests of a
   * platform not yet in the registry pass `[...PLATFORMS, theirs]`.
   * @default PLATFORMS, every platform wxa-auth ships
   * @internal
   */
  platforms?: readonly PlatformDefinition[]
  /**
   * Where detail for operators goes (a 5xx's cause, a platform's errcode,
   * which check failed); wxa-auth writes nowhere else. Never secrets. @default console
   */
  log?: Logger
}

/** The options with every default filled in, made once per factory. @internal */
export interface ResolvedOptions<User extends { id: string }> {
  /** The configuration of the request's runtime, built once per runtime key. */
  config: (c: Context) => WxaConfig
  hooks: Required<UserHooks<User>>
  /** Whether the app brings its own `findOrCreateUser` (else: the default user, see `IDENTITY`). */
  ownUsers: boolean
  now: () => number
  log: Logger
  /** The platforms served. */
  platforms: readonly PlatformDefinition[]
}

/** @internal */
export function resolveOptions<User extends { id: string }, E extends Env = Env>(
  options: WxaAuthOptions<User, E>,
): ResolvedOptions<User> {
  const {
    runtime,
    upstream,
    now = () => Math.floor(Date.now() / 1000),
    log = console,
    platforms = PLATFORMS,
    ...hooks
  } = options
  if (!runtime?.parts) {
    throw new TypeError(
      'wxa-auth: options.runtime is required, e.g. cloudflare() from wxa-auth/cloudflare',
    )
  }
  const built = new WeakMap<object, WxaConfig>()
  const defaults = defaultHooks as unknown as Required<UserHooks<User>>
  return {
    config(c) {
      const parts = runtime.parts(c as Context<E>)
      let config = built.get(parts.key)
      if (!config) {
        const upstreams = upstream?.(c as Context<E>)
        const upstreamOf: UpstreamOf | undefined = upstreams && ((name) => upstreams[name])
        config = buildConfig(parts, { log, upstream: upstreamOf, platforms })
        built.set(parts.key, config)
      }
      return config
    },
    hooks: {
      findOrCreateUser: hooks.findOrCreateUser ?? defaults.findOrCreateUser,
      userToClaims: hooks.userToClaims ?? defaults.userToClaims,
      claimsToUser: hooks.claimsToUser ?? defaults.claimsToUser,
      onUserInfo: hooks.onUserInfo ?? defaults.onUserInfo,
      onPhoneNumber: hooks.onPhoneNumber ?? defaults.onPhoneNumber,
      onDeleteAccount: hooks.onDeleteAccount ?? defaults.onDeleteAccount,
      onAuthorizationRevoked: hooks.onAuthorizationRevoked ?? defaults.onAuthorizationRevoked,
      onPhoneNumberRevoked: hooks.onPhoneNumberRevoked ?? defaults.onPhoneNumberRevoked,
      onAccountCancelled: hooks.onAccountCancelled ?? defaults.onAccountCancelled,
      onUserInfoModified: hooks.onUserInfoModified ?? defaults.onUserInfoModified,
    },
    ownUsers: hooks.findOrCreateUser !== undefined,
    now,
    log,
    platforms,
  }
}
