import { type AppClientOptions, appCaller } from '../caller'
import { jscode2session } from '../jscode2session'
import type { PlatformSession } from '../platform'

export const QQ_API_BASE = 'https://api.q.qq.com'

export interface QQClientOptions extends AppClientOptions {
  /** Base URL of QQ's server API. @default 'https://api.q.qq.com' */
  baseUrl?: string
}

export interface QQClient {
  /** Exchanges a `qq.login` code for the user's identity: WeChat's `GET /sns/jscode2session`, on QQ's host. */
  code2Session(code: string): Promise<PlatformSession>
}

/**
 * A client for QQ's mini program server API. Its code2Session is WeChat's:
 * the same query, answer and errcodes.
 * https://q.qq.com/wiki/develop/miniprogram/server/open_port/port_login.html
 *
 * @example
 * ```ts
 * const qq = createQQClient({ appId, appSecret })
 * const { openid, sessionKey } = await qq.code2Session(code)
 * ```
 */
export function createQQClient(options: QQClientOptions): QQClient {
  const call = appCaller('QQ', options, QQ_API_BASE)
  return { code2Session: (code) => jscode2session(call, options, code) }
}
