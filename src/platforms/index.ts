import { WxaAuthError } from '../errors'
import { alipay } from './alipay/platform'
import { douyin } from './douyin/platform'
import type { PlatformApp, PlatformDefinition } from './platform'
import { qq } from './qq/platform'
import { wechat } from './wechat/platform'

/** Every platform wxa-auth serves: a new one is a folder and one line here. */
export const PLATFORMS: readonly PlatformDefinition[] = [wechat, douyin, qq, alipay]

/**
 * `app`, whose failures name its platform: an error of Douyin or QQ carries
 * no WeChat alias (0.2's codes were WeChat's).
 */
export function namingPlatform(app: PlatformApp): PlatformApp {
  const named = (err: unknown) =>
    err instanceof WxaAuthError && err.platform === undefined
      ? new WxaAuthError(err.code, err.message, {
          cause: err.cause,
          retryAfter: err.retryAfter,
          platform: app.platform,
        })
      : err
  const wrapped: Record<string, unknown> = { ...app }
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
  return wrapped as unknown as PlatformApp
}
