import type { WxaServerCode } from './codes'

/** Codes the SDK itself reports; the server's codes pass through as they are. */
export type WxaClientOnlyCode =
  /** The network call failed: no network, DNS, TLS, timeout. */
  | 'NETWORK_ERROR'
  /** `wx.login` (or the framework's login) failed or gave no code. */
  | 'WX_LOGIN_FAILED'
  /** The server answered with something that is not wxa-auth's JSON. */
  | 'BAD_RESPONSE'
  /** Still 401 after a fresh login or refresh, or within `loginCooldown` of one: not retried. */
  | 'LOGIN_REJECTED'
  /** A login is needed, but the last one was less than `loginCooldown` ago. */
  | 'LOGIN_COOLDOWN'
  /** A request path that is not a plain path below `baseUrl`; nothing was sent. */
  | 'BAD_URL'
  /** A privacy API failed with errno 104: the user has not agreed to the privacy guide. */
  | 'PRIVACY_NOT_AGREED'
  /** A privacy API failed with errno 112: the admin's privacy guide lacks the scope. */
  | 'PRIVACY_SCOPE_MISSING'
  /** `wxa-auth/web`: no session and no silent login in a browser; call `authorize()` or `scanLogin()`. */
  | 'LOGIN_REQUIRED'
  /** `wxa-auth/web`: the user refused the PC's scan-to-login on the phone. */
  | 'SCAN_DENIED'

/** Every code a {@link WxaClientError} can carry; `switch (err.code)` narrows on it. */
export type WxaClientErrorCode = WxaClientOnlyCode | WxaServerCode

/**
 * The one error the SDK throws. `code` is stable: a server error code from
 * wxa-auth's error table (`SESSION_EXPIRED`, `USER_BLOCKED`, …) or one
 * of {@link WxaClientOnlyCode}. `status` is the HTTP status when there was an
 * answer; `serverCode` is the server's code behind `LOGIN_REJECTED`;
 * `retryAfter` is how many seconds to wait before trying again, when known.
 * `alias` is the code's 0.2 name when 0.3 renamed it (`WECHAT_CODE_INVALID`
 * for `CODE_INVALID`), until 0.4; {@link WxaClientError.is} matches either.
 *
 * @example
 * ```ts
 * try {
 *   await api.request({ url: '/me' })
 * } catch (err) {
 *   if (err instanceof WxaClientError && err.code === 'NETWORK_ERROR') showOffline()
 *   else throw err
 * }
 * ```
 */
export class WxaClientError extends Error {
  override name = 'WxaClientError'
  readonly code: WxaClientErrorCode
  readonly status: number | undefined
  readonly serverCode: string | undefined
  readonly retryAfter: number | undefined
  /** The 0.2 name of the server's code, when 0.3 renamed it. @deprecated until 0.4 */
  readonly alias: string | undefined

  constructor(
    code: WxaClientErrorCode,
    message: string,
    options: {
      status?: number
      serverCode?: string
      retryAfter?: number
      alias?: string
      cause?: unknown
    } = {},
  ) {
    super(message, { cause: options.cause })
    this.code = code
    this.status = options.status
    this.serverCode = options.serverCode
    this.retryAfter = options.retryAfter
    this.alias = options.alias
  }

  /** Whether the code is `code`, or `code` is its 0.2 name. */
  is(code: string): boolean {
    return this.code === code || (this.alias !== undefined && this.alias === code)
  }
}
