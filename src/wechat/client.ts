import { WxaAuthError, type WxaErrorCode } from '../errors'

export const WECHAT_API_BASE = 'https://api.weixin.qq.com'
export const DEFAULT_TIMEOUT_MS = 5_000 // per attempt
export const DEFAULT_RETRIES = 2 // after the first attempt, for errcode -1 and network errors
export const DEFAULT_RETRY_DELAY_MS = 200 // doubled on each retry

/** What WeChat answers when a call fails. Only errors carry a non-zero `errcode`. */
export type WeChatErrorBody = { errcode: number; errmsg?: string }

/** `/sns/jscode2session` on the wire: success may omit `errcode` entirely. */
export type Code2SessionBody =
  | { openid: string; session_key: string; unionid?: string; errcode?: 0 }
  | WeChatErrorBody

/** The identity code2Session yields. `sessionKey` never leaves the server. */
export interface Code2SessionResult {
  openid: string
  unionid?: string
  sessionKey: string
}

export interface WeChatClientOptions {
  appId: string
  appSecret: string
  /** Base URL of the WeChat server API. @default 'https://api.weixin.qq.com' */
  baseUrl?: string
  /** The fetch to use: global fetch, a service binding, or the emulator's stub. */
  fetch?: (input: Request | string | URL, init?: RequestInit) => Promise<Response>
  /** Milliseconds before one attempt is abandoned. @default 5000 */
  timeoutMs?: number
  /** Retries after the first attempt for errcode -1 and network errors. @default 2 */
  retries?: number
  /** Delay before the first retry, doubled after each. @default 200 */
  retryDelayMs?: number
}

export interface WeChatClient {
  /** Exchanges a `wx.login` code for the user's identity. */
  code2Session(code: string): Promise<Code2SessionResult>
}

// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
const ERRCODES: Record<number, { code: WxaErrorCode; retryAfter?: number }> = {
  40029: { code: 'WECHAT_CODE_INVALID' },
  40163: { code: 'WECHAT_CODE_USED' },
  40226: { code: 'WECHAT_USER_BLOCKED' },
  45011: { code: 'WECHAT_RATE_LIMITED', retryAfter: 60 },
  40013: { code: 'WECHAT_CREDENTIALS_INVALID' },
  40125: { code: 'WECHAT_CREDENTIALS_INVALID' },
  [-1]: { code: 'WECHAT_UNAVAILABLE', retryAfter: 5 },
}

/** Maps a WeChat `errcode` to the error wxa-auth reports. */
export function wechatError(body: WeChatErrorBody, api: string): WxaAuthError {
  const known = ERRCODES[body.errcode]
  const detail = `${api}: errcode ${body.errcode} ${body.errmsg ?? ''}`.trim()
  return new WxaAuthError(known?.code ?? 'WECHAT_ERROR', undefined, {
    cause: new Error(detail),
    ...(known?.retryAfter ? { retryAfter: known.retryAfter } : {}),
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function isErrorBody(body: object): body is WeChatErrorBody {
  return (
    typeof (body as WeChatErrorBody).errcode === 'number' && (body as WeChatErrorBody).errcode !== 0
  )
}

/**
 * A client for the WeChat server API that fails in one shape: every problem
 * is a {@link WxaAuthError} with a stable code. The AppSecret travels only in
 * the request URL and never into an error, a log line or a response.
 *
 * @example
 * ```ts
 * const wechat = createWeChatClient({ appId, appSecret })
 * const { openid, sessionKey } = await wechat.code2Session(code)
 * ```
 */
export function createWeChatClient(options: WeChatClientOptions): WeChatClient {
  const {
    appId,
    appSecret,
    baseUrl = WECHAT_API_BASE,
    fetch: doFetch = (input, init) => fetch(input, init),
    timeoutMs = DEFAULT_TIMEOUT_MS,
    retries = DEFAULT_RETRIES,
    retryDelayMs = DEFAULT_RETRY_DELAY_MS,
  } = options
  if (!appId) throw new WxaAuthError('CONFIG_INVALID', 'WeChat client: appId is required.')
  if (!appSecret) throw new WxaAuthError('CONFIG_INVALID', 'WeChat client: appSecret is required.')
  const base = baseUrl.replace(/\/+$/, '')

  /** One attempt: a parsed JSON object, or a WxaAuthError saying why not. */
  async function attempt(api: string, url: string): Promise<object> {
    let res: Response
    try {
      res = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    } catch (cause) {
      const timedOut = cause instanceof Error && cause.name === 'TimeoutError'
      throw new WxaAuthError(timedOut ? 'WECHAT_TIMEOUT' : 'WECHAT_UNAVAILABLE', undefined, {
        cause: new Error(`${api}: ${timedOut ? 'timed out' : 'network error'}`, { cause }),
      })
    }
    let text: string
    try {
      text = await res.text()
    } catch (cause) {
      throw new WxaAuthError('WECHAT_TIMEOUT', undefined, {
        cause: new Error(`${api}: body not received`, { cause }),
      })
    }
    if (res.status >= 500) {
      throw new WxaAuthError('WECHAT_UNAVAILABLE', undefined, {
        cause: new Error(`${api}: HTTP ${res.status}`),
      })
    }
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new WxaAuthError('WECHAT_BAD_RESPONSE', undefined, {
        cause: new Error(`${api}: HTTP ${res.status}, not a JSON object (${text.length} bytes)`),
      })
    }
    return body
  }

  /** Calls `api`, retrying errcode -1 and network errors with bounded backoff. */
  async function call(api: string, url: string): Promise<object> {
    for (let n = 0; ; n++) {
      let failure: WxaAuthError
      try {
        const body = await attempt(api, url)
        if (!isErrorBody(body)) return body
        failure = wechatError(body, api)
      } catch (err) {
        if (!(err instanceof WxaAuthError)) throw err
        failure = err
      }
      if (failure.code !== 'WECHAT_UNAVAILABLE' || n >= retries) throw failure
      await sleep(retryDelayMs * 2 ** n)
    }
  }

  return {
    async code2Session(code) {
      const query = new URLSearchParams({
        appid: appId,
        secret: appSecret,
        js_code: code,
        grant_type: 'authorization_code',
      })
      const body = (await call('code2Session', `${base}/sns/jscode2session?${query}`)) as Record<
        string,
        unknown
      >
      const { openid, session_key, unionid } = body
      if (
        typeof openid !== 'string' ||
        !openid ||
        typeof session_key !== 'string' ||
        !session_key
      ) {
        throw new WxaAuthError('WECHAT_BAD_RESPONSE', undefined, {
          cause: new Error('code2Session: openid or session_key missing'),
        })
      }
      return {
        openid,
        sessionKey: session_key,
        ...(typeof unionid === 'string' && unionid ? { unionid } : {}),
      }
    },
  }
}
