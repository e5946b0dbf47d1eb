import type { Context, Env } from 'hono'
import { WxaAuthError } from '../errors'
import type { Upstream } from '../platforms/platform'
import { EMULATOR_APP_ID, EMULATOR_APP_SECRET, EMULATOR_FACES, emulatorStub } from './stub'
import type { EmulatedPlatform } from './wechat/state'

/** What the emulators need in the Worker's env: their binding, and no real secret. */
type EmulatedEnv = { WECHAT_EMULATOR?: DurableObjectNamespace } & Partial<
  Record<`${'WECHAT' | 'DOUYIN' | 'QQ'}_APP_SECRET${'' | 'S'}`, string>
>

const PREFIXES: Record<EmulatedPlatform, 'WECHAT' | 'DOUYIN' | 'QQ' | 'ALIPAY'> = {
  wechat: 'WECHAT',
  douyin: 'DOUYIN',
  qq: 'QQ',
  alipay: 'ALIPAY',
}

/** The URL a platform's call goes to: its face's host, the client's path and query. */
function onFace(input: Request | string | URL, platform: EmulatedPlatform): string | Request | URL {
  if (platform === 'wechat') return input
  const url = new URL(input instanceof Request ? input.url : String(input))
  const target = `http://${EMULATOR_FACES[platform]}${url.pathname}${url.search}`
  return input instanceof Request ? new Request(target, input) : target
}

/** The keys the emulator made for this run's Alipay app: it signs, the development Worker verifies. */
async function alipayKeys(env: EmulatedEnv, appId: string): Promise<Record<string, string>> {
  const url = new URL(`http://${EMULATOR_FACES.alipay}/__emulator/alipay/keys`)
  url.searchParams.set('appId', appId)
  const res = await emulatorStub(env).fetch(url.toString())
  if (!res.ok) throw new WxaAuthError('UPSTREAM_UNAVAILABLE')
  return res.json<Record<string, string>>()
}

/**
 * The `upstream` option of a development entry: with the emulator bound
 * (`WECHAT_EMULATOR`), each platform whose AppSecret is not set (WeChat,
 * Douyin, QQ) is the emulator, reached through the same client as the
 * platform itself. With a real AppSecret the same Worker talks to that
 * platform. Never in a production entry.
 *
 * @example
 * ```ts
 * export default createApp({ runtime: cloudflare(), upstream: emulatorUpstream() })
 * ```
 */
export function emulatorUpstream<E extends Env>() {
  return (c: Context<E>): Partial<Record<string, Upstream>> | undefined => {
    const env = c.env as EmulatedEnv | undefined
    if (!env?.WECHAT_EMULATOR) return undefined
    const upstreams: Partial<Record<EmulatedPlatform, Upstream>> = {}
    for (const [platform, prefix] of Object.entries(PREFIXES) as [EmulatedPlatform, string][]) {
      // Alipay has no AppSecret: its app private key says it is the real one.
      if (prefix === 'ALIPAY' && (env as { ALIPAY_PRIVATE_KEY?: string }).ALIPAY_PRIVATE_KEY)
        continue
      if (env[`${prefix}_APP_SECRET` as keyof EmulatedEnv]) continue
      if (env[`${prefix}_APP_SECRETS` as keyof EmulatedEnv]) continue
      upstreams[platform] = {
        // A stub belongs to the request that made it: one per call.
        fetch: (input, init) => emulatorStub(env).fetch(onFace(input, platform), init),
        appSecret: EMULATOR_APP_SECRET,
        ...(platform === 'wechat' ? { defaultAppId: EMULATOR_APP_ID } : {}),
        ...(platform === 'alipay' ? { keys: (appId: string) => alipayKeys(env, appId) } : {}),
      }
    }
    return upstreams
  }
}
