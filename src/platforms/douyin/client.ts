import {
  type AppClientOptions,
  appCaller,
  badResponse,
  type ErrorTable,
  filled,
  platformError,
  platformSession,
  type Refusal,
} from '../caller'
import type { PlatformSession } from '../platform'

export const DOUYIN_API_BASE = 'https://developer.toutiao.com'

// https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/log-in/code-2-session
// Douyin documents no separate "code used": a spent code is a bad code (40018).
const ERR_NOS: ErrorTable = {
  [-1]: { code: 'UPSTREAM_UNAVAILABLE', retryAfter: 5 },
  // Bad parameters: the request is ours and complete, so it was the code the client sent.
  40014: { code: 'CODE_INVALID' },
  40015: { code: 'APP_CREDENTIALS_INVALID' },
  40017: { code: 'APP_CREDENTIALS_INVALID' },
  40018: { code: 'CODE_INVALID' },
  40019: { code: 'CODE_INVALID' },
}

/** What Douyin's v2 APIs answer: `err_no` 0 and `data`, or a non-zero `err_no`. */
export interface DouyinAnswer {
  err_no: number
  err_tips?: string
  log_id?: string
  data?: Record<string, unknown> | null
}

function douyinRefusal(api: string, body: Record<string, unknown>): Refusal | undefined {
  const { err_no, err_tips, log_id } = body as Partial<DouyinAnswer>
  if (err_no === 0) return undefined
  if (typeof err_no !== 'number') return { error: badResponse(`${api}: no err_no`), busy: false }
  const tips = `${typeof err_tips === 'string' ? err_tips : ''} (log_id ${String(log_id ?? '-')})`
  return { error: platformError(ERR_NOS, api, 'err_no', err_no, tips), busy: err_no === -1 }
}

export interface DouyinClientOptions extends AppClientOptions {
  /** Base URL of Douyin's server API. @default 'https://developer.toutiao.com' */
  baseUrl?: string
}

/** A `tt.login` code, and its `anonymousCode` when the mini program sent it. */
export interface DouyinLogin {
  code: string
  anonymousCode?: string | undefined
}

export interface DouyinClient {
  /**
   * Exchanges a `tt.login` code (and its `anonymousCode`, when sent) for the
   * user's identity: `POST /api/apps/v2/jscode2session`. Spends the codes:
   * never retried after an answer that may have spent them.
   */
  code2Session(login: DouyinLogin): Promise<PlatformSession>
}

/**
 * A client for Douyin's (Toutiao's) mini program server API, failing as the
 * other platforms' do: a {@link WxaAuthError} with a neutral code, Douyin's
 * `err_no`, `err_tips` and `log_id` in its cause. The AppSecret travels only
 * in the JSON body.
 *
 * @example
 * ```ts
 * const douyin = createDouyinClient({ appId, appSecret })
 * const { openid, sessionKey } = await douyin.code2Session({ code, anonymousCode })
 * ```
 */
export function createDouyinClient(options: DouyinClientOptions): DouyinClient {
  const { appId, appSecret } = options
  const call = appCaller('Douyin', options, DOUYIN_API_BASE)
  return {
    async code2Session({ code, anonymousCode }) {
      const body = await call('code2Session', {
        path: '/api/apps/v2/jscode2session',
        json: {
          appid: appId,
          secret: appSecret,
          code,
          ...(anonymousCode ? { anonymous_code: anonymousCode } : {}),
        },
        singleUse: true,
        refusal: (answer) => douyinRefusal('code2Session', answer),
      })
      const data = body.data
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw badResponse('code2Session: data missing')
      }
      const fields = data as Record<string, unknown>
      const anonymous = fields.anonymous_openid
      return {
        ...platformSession('code2Session', fields),
        ...(filled(anonymous) ? { anonymousOpenid: anonymous } : {}),
      }
    },
  }
}
