import { WxaAuthError } from '../errors'
import { alipay } from './alipay/platform'
import { douyin } from './douyin/platform'
import type { PlatformApp, PlatformDefinition } from './platform'
import { qq } from './qq/platform'
import { wechat } from './wechat/platform'

/**
 * Every platform wxa-auth serves: a new one is a folder and one line here.
 * `PlatformName` and the schemas' lists of platforms are read from it.
 */
export const PLATFORMS = [
  wechat,
  douyin,
  qq,
  alipay,
] as const satisfies readonly PlatformDefinition[]

/** The mini program platforms wxa-auth serves: the names of {@link PLATFORMS}. */
export type PlatformName = (typeof PLATFORMS)[number]['name']

/** The names of {@link PLATFORMS}, in order (the first is the default). */
export const PLATFORM_NAMES = PLATFORMS.map((p) => p.name) as [PlatformName, ...PlatformName[]]

/** An app of one of the registry's platforms. */
export type App = PlatformApp<PlatformName>

/**
 * The fields of `platform`'s login kind `kind` that `body` holds: what the
 * kind's schema declares (Douyin's `anonymousCode` for `code`), and nothing else.
 */
export function loginFields(
  platform: PlatformDefinition | undefined,
  kind: string,
  body: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const { input = {} } = platform?.logins[kind] ?? {}
  return Object.fromEntries(
    Object.keys(input)
      .filter((field) => body[field] !== undefined)
      .map((field) => [field, body[field]]),
  )
}

/**
 * `app`, whose failures name its platform: an error of Douyin or QQ carries
 * no WeChat alias (0.2's codes were WeChat's).
 */
export function namingPlatform<A extends PlatformApp>(app: A): A {
  const named = (err: unknown) =>
    err instanceof WxaAuthError && err.platform === undefined
      ? new WxaAuthError(err.code, err.message, {
          cause: err.cause,
          retryAfter: err.retryAfter,
          platform: app.platform,
        })
      : err
  const wrapped: Record<string, unknown> = { ...(app as PlatformApp) }
  for (const [name, member] of Object.entries(app)) {
    if (typeof member !== 'function') continue
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await (member as (...a: unknown[]) => unknown).apply(app, args)
      } catch (err) {
        throw named(err)
      }
    }
  }
  return wrapped as unknown as A
}
