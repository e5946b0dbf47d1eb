import { isWxaAuthError, WxaAuthError } from '../../errors'
import { hex } from '../../util/hex'
import {
  type AppClientOptions,
  appCaller,
  badResponse,
  DEFAULT_RETRIES,
  DEFAULT_RETRY_DELAY_MS,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_UPSTREAM_RETRIES,
  type ErrorTable,
  filled,
  platformError,
  type UpstreamCall,
  upstreamCaller,
} from '../caller'
import {
  type ErrcodeBody,
  errcodeRefusal,
  JSCODE2SESSION_ERRCODES,
  jscode2session,
} from '../jscode2session'
import type { PhoneNumber, PlatformSession } from '../platform'

export { DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS, DEFAULT_TIMEOUT_MS, DEFAULT_UPSTREAM_RETRIES }
export const WECHAT_API_BASE = 'https://api.weixin.qq.com'

const NO_SECRET =
  'This server has no AppSecret (WECHAT_APP_SECRET), so it takes no login code: log in through wx.cloud.callContainer without one.'

/** What WeChat answers when a call fails. Only errors carry a non-zero `errcode`. */
export type WeChatErrorBody = ErrcodeBody

/** The identity code2Session yields. `sessionKey` never leaves the server. */
export type Code2SessionResult = PlatformSession

/** A stable access token and the seconds it has left. Never send it to a client or a log. */
export interface StableToken {
  accessToken: string
  expiresIn: number
}

/** The user's phone number as WeChat returns it (`phone_info`, without its watermark). */
export type { PhoneNumber }

/** The longest access token WeChat documents; anything longer is a bad response. */
export const MAX_ACCESS_TOKEN_LENGTH = 512 // characters

/**
 * The app, and how WeChat is reached (`fetch`, `timeoutMs`, `retries`,
 * `retryDelayMs`: see {@link CallerOptions}; errcode -1 is retried on every
 * API, network errors and HTTP 5xx only on the APIs without a single-use code).
 */
export interface WeChatClientOptions extends AppClientOptions {
  /** Base URL of the WeChat server API. @default 'https://api.weixin.qq.com' */
  baseUrl?: string
  /**
   * Cloud Hosting's open interface service (开放接口服务), e.g.
   * `http://api.weixin.qq.com`: every API that takes an access token is sent
   * there without one (the `accessToken` arguments are ignored: pass `''`),
   * with `from_appid` naming this app (资源复用). code2Session still goes to
   * `baseUrl` with the AppSecret: it is no cloud call. With this option
   * `appSecret` may be `''`: code2Session then rejects with `NOT_OFFERED`.
   */
  openApiBase?: string
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

const ERRCODES: ErrorTable = {
  ...JSCODE2SESSION_ERRCODES,
  // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
  40001: { code: 'ACCESS_TOKEN_INVALID' },
  40014: { code: 'ACCESS_TOKEN_INVALID' },
  42001: { code: 'ACCESS_TOKEN_INVALID' },
}

/** Errcodes that mean something else on one API than on code2Session. */
type Overrides = ErrorTable

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
  return platformError({ ...ERRCODES, ...overrides }, api, 'errcode', body.errcode, body.errmsg)
}

/** The query of checkSessionKey and resetUserSessionKey: signed with the session_key. */
const signedQuery = async (openid: string, sessionKey: string) => ({
  openid,
  signature: await sessionKeySignature(sessionKey),
  sig_method: 'hmac_sha256',
})

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
  const { appId, appSecret, openApiBase, ...transport } = options
  const request: UpstreamCall =
    openApiBase && !appSecret
      ? // Through the open interface service the AppSecret is optional: without it, no code2Session.
        () => Promise.reject(new WxaAuthError('NOT_OFFERED', NO_SECRET))
      : appCaller('WeChat', { appId, appSecret, ...transport }, WECHAT_API_BASE)
  const openRequest = openApiBase && upstreamCaller({ ...transport, baseUrl: openApiBase })

  /**
   * Calls `api` at `path` (GET, or POST of `json`), retried as `upstreamCaller`
   * says; with `accessToken`, through the open interface service when there is one.
   */
  const call = (
    api: string,
    path: string,
    query: Record<string, string>,
    {
      json,
      overrides = {},
      singleUse = false,
      accessToken,
    }: { json?: object; overrides?: Overrides; singleUse?: boolean; accessToken?: string } = {},
  ) =>
    (accessToken !== undefined && openRequest ? openRequest : request)(api, {
      path,
      query:
        accessToken === undefined
          ? query
          : openRequest
            ? { ...query, from_appid: appId }
            : { access_token: accessToken, ...query },
      ...(json ? { json } : {}),
      singleUse,
      refusal: errcodeRefusal({ ...ERRCODES, ...overrides }, api),
    })

  return {
    code2Session: (code) => jscode2session(request, { appId, appSecret, table: ERRCODES }, code),

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
        !filled(access_token) ||
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
        {},
        {
          accessToken,
          json: { code, ...(openid ? { openid } : {}) },
          overrides: PHONE_ERRCODES,
          singleUse: true,
        },
      )
      const { phoneNumber, purePhoneNumber, countryCode } = (info ?? {}) as Record<string, unknown>
      if (!filled(phoneNumber) || !filled(purePhoneNumber)) {
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
        {},
        { accessToken, json: { content, version: 2, scene, openid } },
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
        {},
        { accessToken, json: { media_url: mediaUrl, media_type: 2, version: 2, scene, openid } },
      )
      if (!filled(trace_id)) throw badResponse('mediaCheckAsync: trace_id missing')
      return trace_id
    },

    async checkSessionKey(accessToken, openid, sessionKey) {
      const query = await signedQuery(openid, sessionKey)
      try {
        await call('checkSessionKey', '/wxa/checksession', query, {
          accessToken,
          overrides: CHECK_ERRCODES,
        })
        return true
      } catch (err) {
        if (isWxaAuthError(err, 'SESSION_KEY_STALE')) return false
        throw err
      }
    },

    // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/ResetUserSessionKey.html
    async resetSessionKey(accessToken, openid, sessionKey) {
      const query = await signedQuery(openid, sessionKey)
      const { session_key } = await call('resetSessionKey', '/wxa/resetusersessionkey', query, {
        accessToken,
        overrides: CHECK_ERRCODES,
      })
      if (!filled(session_key)) throw badResponse('resetSessionKey: session_key missing')
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
