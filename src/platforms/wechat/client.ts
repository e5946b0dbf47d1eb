import { isWxaAuthError, WxaAuthError, type WxaErrorCode } from '../../errors'
import { hex } from '../../util/hex'
import { redact, registerSecret } from '../../util/redact'
import type { PhoneNumber } from '../platform'

export const WECHAT_API_BASE = 'https://api.weixin.qq.com'
export const DEFAULT_TIMEOUT_MS = 5_000 // per attempt
export const DEFAULT_RETRIES = 2 // after the first attempt; see `call` for which failures
export const DEFAULT_RETRY_DELAY_MS = 200 // doubled on each retry

/** What WeChat answers when a call fails. Only errors carry a non-zero `errcode`. */
export type WeChatErrorBody = { errcode: number; errmsg?: string }

/** The identity code2Session yields. `sessionKey` never leaves the server. */
export interface Code2SessionResult {
  openid: string
  unionid?: string
  sessionKey: string
}

/** A stable access token and the seconds it has left. Never send it to a client or a log. */
export interface StableToken {
  accessToken: string
  expiresIn: number
}

/** The user's phone number as WeChat returns it (`phone_info`, without its watermark). */
export type { PhoneNumber }

/** The longest access token WeChat documents; anything longer is a bad response. */
export const MAX_ACCESS_TOKEN_LENGTH = 512 // characters

export interface WeChatClientOptions {
  appId: string
  appSecret: string
  /** Base URL of the WeChat server API. @default 'https://api.weixin.qq.com' */
  baseUrl?: string
  /** The fetch to use: global fetch, a service binding, or the emulator's stub. */
  fetch?: (input: Request | string | URL, init?: RequestInit) => Promise<Response>
  /** Milliseconds before one attempt is abandoned. @default 5000 */
  timeoutMs?: number
  /**
   * Retries after the first attempt: for errcode -1 on every API, and for
   * network errors and HTTP 5xx on the APIs without a single-use code. @default 2
   */
  retries?: number
  /** Delay before the first retry, doubled after each. @default 200 */
  retryDelayMs?: number
}

/** WeChat's verdict on content: `pass`, `review` (uncertain) or `risky`. */
export type Verdict = 'pass' | 'review' | 'risky'

export interface WeChatClient {
  /**
   * WeChat's text check (`/wxa/msg_sec_check`, version 2) of what `openid`
   * wrote in `scene` (1: a profile, e.g. a nickname); the user must have used
   * the mini program in the last two hours.
   */
  checkText(accessToken: string, content: string, openid: string, scene?: number): Promise<Verdict>
  /**
   * Starts WeChat's asynchronous image check (`/wxa/media_check_async`) of
   * the image at `mediaUrl`; the verdict arrives later as a `wxa_media_check`
   * push carrying the returned trace id.
   */
  checkImage(accessToken: string, mediaUrl: string, openid: string, scene?: number): Promise<string>
  /** Exchanges a `wx.login` code for the user's identity. */
  code2Session(code: string): Promise<Code2SessionResult>
  /**
   * The stable access token (`POST /cgi-bin/stable_token`, `force_refresh: false`:
   * repeated calls return the same token, so other callers' tokens stay valid).
   * Cache it: see `accessTokenCache`.
   */
  stableToken(): Promise<StableToken>
  /**
   * The phone number behind a code from the phone-number button. With
   * `openid`, WeChat checks that the code was issued to that user. Never
   * retried after a failure that may have spent the code.
   * @throws WxaAuthError `WECHAT_PHONE_CODE_INVALID` for an invalid, expired or used
   * code (or one of another user); `WECHAT_PHONE_QUOTA_EXHAUSTED` (errcode 1400001)
   * when the app's paid quota is used up; `WECHAT_ACCESS_TOKEN_INVALID` when
   * WeChat rejects `accessToken`
   */
  getPhoneNumber(accessToken: string, code: string, openid?: string): Promise<PhoneNumber>
  /**
   * Whether WeChat still holds `sessionKey` as the user's session_key
   * (`/wxa/checksession`, `sig_method=hmac_sha256`): false on errcode 87009.
   */
  checkSessionKey(accessToken: string, openid: string, sessionKey: string): Promise<boolean>
  /**
   * Makes WeChat issue the user a new session_key (`/wxa/resetusersessionkey`),
   * signed with the current one, and returns it. Use it when a session_key may
   * have leaked; store the new one in the user's identity.
   * @throws WxaAuthError `WECHAT_SESSION_KEY_STALE` (87009) when `sessionKey` is not the current one
   */
  resetSessionKey(accessToken: string, openid: string, sessionKey: string): Promise<string>
}

// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
const ERRCODES: Record<number, { code: WxaErrorCode; retryAfter?: number }> = {
  40029: { code: 'CODE_INVALID' },
  40163: { code: 'CODE_USED' },
  40226: { code: 'USER_BLOCKED' },
  45011: { code: 'UPSTREAM_RATE_LIMITED', retryAfter: 60 },
  40013: { code: 'APP_CREDENTIALS_INVALID' },
  40125: { code: 'APP_CREDENTIALS_INVALID' },
  [-1]: { code: 'UPSTREAM_UNAVAILABLE', retryAfter: 5 },
  // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
  40001: { code: 'ACCESS_TOKEN_INVALID' },
  40014: { code: 'ACCESS_TOKEN_INVALID' },
  42001: { code: 'ACCESS_TOKEN_INVALID' },
}

/** Errcodes that mean something else on one API than on code2Session. */
type Overrides = Record<number, { code: WxaErrorCode; retryAfter?: number }>

// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/phone-number/getPhoneNumber.html
// 1400001: the phone-number API is billed per success since 2023-08-28; past the
// free quota an account without a paid balance gets this.
const PHONE_ERRCODES: Overrides = {
  40029: { code: 'PHONE_CODE_INVALID' },
  1400001: { code: 'WECHAT_PHONE_QUOTA_EXHAUSTED' },
}
// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/checkSessionKey.html
const CHECK_ERRCODES: Overrides = { 87009: { code: 'SESSION_KEY_STALE' } }

/** Maps a WeChat `errcode` to the error wxa-auth reports. */
export function wechatError(
  body: WeChatErrorBody,
  api: string,
  overrides: Overrides = {},
): WxaAuthError {
  const known = overrides[body.errcode] ?? ERRCODES[body.errcode]
  const detail = `${api}: errcode ${body.errcode} ${body.errmsg ?? ''}`.trim()
  return new WxaAuthError(known?.code ?? 'UPSTREAM_ERROR', undefined, {
    cause: new Error(detail),
    ...(known?.retryAfter ? { retryAfter: known.retryAfter } : {}),
  })
}

/** The query of checkSessionKey and resetUserSessionKey: signed with the session_key. */
const signedQuery = async (accessToken: string, openid: string, sessionKey: string) => ({
  access_token: accessToken,
  openid,
  signature: await sessionKeySignature(sessionKey),
  sig_method: 'hmac_sha256',
})

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
  registerSecret(appSecret)
  const base = baseUrl.replace(/\/+$/, '')

  /** One attempt: a parsed JSON object, or a WxaAuthError saying why not. */
  async function attempt(api: string, url: string, json?: object): Promise<object> {
    let res: Response
    try {
      res = await doFetch(url, {
        signal: AbortSignal.timeout(timeoutMs),
        ...(json
          ? {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(json),
            }
          : {}),
      })
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError'
      // Not the error itself as the cause: its message may quote the URL and its secret.
      const detail = redact(err instanceof Error ? `${err.name}: ${err.message}` : String(err))
      throw new WxaAuthError(timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE', undefined, {
        cause: new Error(`${api}: ${timedOut ? 'timed out' : 'network error'} (${detail})`),
      })
    }
    let text: string
    try {
      text = await res.text()
    } catch (cause) {
      throw new WxaAuthError('UPSTREAM_TIMEOUT', undefined, {
        cause: new Error(`${api}: body not received`, { cause }),
      })
    }
    if (res.status >= 500) {
      throw new WxaAuthError('UPSTREAM_UNAVAILABLE', undefined, {
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
      throw new WxaAuthError('UPSTREAM_BAD_RESPONSE', undefined, {
        cause: new Error(`${api}: HTTP ${res.status}, not a JSON object (${text.length} bytes)`),
      })
    }
    return body
  }

  /**
   * Calls `api` at `path` (GET, or POST of `json`), retrying with bounded
   * backoff: errcode -1 always (WeChat says the call did nothing), network
   * errors and HTTP 5xx only when `singleUse` is false, since WeChat may have
   * spent a single-use code before the answer was lost. Only `api` names the
   * call in errors: the URL carries the AppSecret or the access token.
   */
  async function call(
    api: string,
    path: string,
    query: Record<string, string>,
    {
      json,
      overrides,
      singleUse = false,
    }: { json?: object; overrides?: Overrides; singleUse?: boolean } = {},
  ): Promise<Record<string, unknown>> {
    const url = `${base}${path}?${new URLSearchParams(query)}`
    for (let n = 0; ; n++) {
      let failure: WxaAuthError
      let busy = false
      try {
        const body = await attempt(api, url, json)
        if (!isErrorBody(body)) return body as Record<string, unknown>
        busy = body.errcode === -1
        failure = wechatError(body, api, overrides)
      } catch (err) {
        if (!(err instanceof WxaAuthError)) throw err
        failure = err
      }
      const retryable = busy || (!singleUse && failure.code === 'UPSTREAM_UNAVAILABLE')
      if (!retryable || n >= retries) throw failure
      await sleep(retryDelayMs * 2 ** n)
    }
  }

  const badResponse = (detail: string) =>
    new WxaAuthError('UPSTREAM_BAD_RESPONSE', undefined, { cause: new Error(detail) })
  const text = (value: unknown): value is string => typeof value === 'string' && value !== ''

  return {
    async code2Session(code) {
      const { openid, session_key, unionid } = await call(
        'code2Session',
        '/sns/jscode2session',
        {
          appid: appId,
          secret: appSecret,
          js_code: code,
          grant_type: 'authorization_code',
        },
        { singleUse: true },
      )
      if (!text(openid) || !text(session_key)) {
        throw badResponse('code2Session: openid or session_key missing')
      }
      return {
        openid,
        sessionKey: session_key,
        ...(typeof unionid === 'string' && unionid ? { unionid } : {}),
      }
    },

    async stableToken() {
      const json = {
        grant_type: 'client_credential',
        appid: appId,
        secret: appSecret,
        force_refresh: false, // true is limited to 20 a day and invalidates other callers' tokens
      }
      const body = await call('stableToken', '/cgi-bin/stable_token', {}, { json })
      const { access_token, expires_in } = body
      if (
        !text(access_token) ||
        access_token.length > MAX_ACCESS_TOKEN_LENGTH ||
        typeof expires_in !== 'number' ||
        !(expires_in > 0)
      ) {
        throw badResponse('stableToken: access_token or expires_in missing')
      }
      return { accessToken: access_token, expiresIn: expires_in }
    },

    async getPhoneNumber(accessToken, code, openid) {
      const { phone_info: info } = await call(
        'getPhoneNumber',
        '/wxa/business/getuserphonenumber',
        { access_token: accessToken },
        {
          json: { code, ...(openid ? { openid } : {}) },
          overrides: PHONE_ERRCODES,
          singleUse: true,
        },
      )
      const { phoneNumber, purePhoneNumber, countryCode } = (info ?? {}) as Record<string, unknown>
      if (!text(phoneNumber) || !text(purePhoneNumber)) {
        throw badResponse('getPhoneNumber: phone_info missing')
      }
      return {
        phoneNumber,
        purePhoneNumber,
        countryCode: String(countryCode ?? ''),
      }
    },

    // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/sec-center/sec-check/msgSecCheck.html
    async checkText(accessToken, content, openid, scene = 1) {
      const { result } = await call(
        'msgSecCheck',
        '/wxa/msg_sec_check',
        { access_token: accessToken },
        { json: { content, version: 2, scene, openid } },
      )
      const suggest = (result as { suggest?: unknown } | undefined)?.suggest
      if (suggest !== 'pass' && suggest !== 'review' && suggest !== 'risky') {
        throw badResponse('msgSecCheck: result.suggest missing')
      }
      return suggest
    },

    // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/sec-center/sec-check/mediaCheckAsync.html
    async checkImage(accessToken, mediaUrl, openid, scene = 1) {
      const { trace_id } = await call(
        'mediaCheckAsync',
        '/wxa/media_check_async',
        { access_token: accessToken },
        { json: { media_url: mediaUrl, media_type: 2, version: 2, scene, openid } },
      )
      if (!text(trace_id)) throw badResponse('mediaCheckAsync: trace_id missing')
      return trace_id
    },

    async checkSessionKey(accessToken, openid, sessionKey) {
      const query = await signedQuery(accessToken, openid, sessionKey)
      try {
        await call('checkSessionKey', '/wxa/checksession', query, { overrides: CHECK_ERRCODES })
        return true
      } catch (err) {
        if (isWxaAuthError(err, 'SESSION_KEY_STALE')) return false
        throw err
      }
    },

    // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/ResetUserSessionKey.html
    async resetSessionKey(accessToken, openid, sessionKey) {
      const query = await signedQuery(accessToken, openid, sessionKey)
      const { session_key } = await call('resetSessionKey', '/wxa/resetusersessionkey', query, {
        overrides: CHECK_ERRCODES,
      })
      if (!text(session_key)) throw badResponse('resetSessionKey: session_key missing')
      return session_key
    },
  }
}

const encoder = new TextEncoder()

/**
 * The signature `checkSessionKey` and `resetUserSessionKey` expect:
 * `hex(hmac_sha256(key, message))` where the key is the UTF-8 bytes of the
 * base64 session_key **string**, not the 16 bytes it decodes to.
 * https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/checkSessionKey.html
 *
 * @param sessionKey the session_key as code2Session returned it
 * @param message what to sign. @default '' (what checkSessionKey signs)
 * @returns lowercase hex
 * @example
 * ```ts
 * const signature = await sessionKeySignature(sessionKey)
 * ```
 */
export async function sessionKeySignature(sessionKey: string, message = ''): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(sessionKey),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  return hex(await crypto.subtle.sign('HMAC', key, encoder.encode(message)))
}
