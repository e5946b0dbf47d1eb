import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * Every error wxa-auth reports: its HTTP status and its default message, in
 * one table. The codes are stable: clients may branch on them. Messages may
 * change. The README's error table is checked against this one by a test.
 */
export const ERRORS = {
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  INVALID_REQUEST: { status: 400, message: 'The request is not valid.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  SESSION_TOO_LARGE: {
    status: 413,
    message: 'The session data would exceed its size limit; nothing was stored.',
  },
  UNKNOWN_APP: { status: 400, message: 'This server does not serve that AppID.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  AUTH_REQUIRED: { status: 401, message: 'Log in to use this route.' },
  TOKEN_INVALID: { status: 401, message: 'The token is not valid.' },
  TOKEN_EXPIRED: { status: 401, message: 'The token has expired; log in again.' },
  TOKEN_REVOKED: { status: 401, message: 'A newer token of this session replaced this one.' },
  SESSION_EXPIRED: { status: 401, message: 'The session has ended; log in again.' },
  SESSION_NOT_FOUND: { status: 404, message: 'No such session.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; try again later.' },
  WECHAT_CODE_INVALID: {
    status: 401,
    message: 'The login code is invalid or expired; call wx.login again.',
  },
  WECHAT_CODE_USED: {
    status: 401,
    message: 'The login code was already used; call wx.login again.',
  },
  WECHAT_USER_BLOCKED: { status: 403, message: 'WeChat blocked this user as high-risk.' },
  WECHAT_RATE_LIMITED: {
    status: 429,
    message: 'Too many logins for this user; try again in a minute.',
  },
  WECHAT_UNAVAILABLE: { status: 503, message: 'WeChat is unavailable; try again later.' },
  WECHAT_TIMEOUT: { status: 504, message: 'WeChat did not answer in time; try again later.' },
  WECHAT_BAD_RESPONSE: { status: 502, message: 'WeChat sent an answer that could not be read.' },
  WECHAT_ERROR: { status: 502, message: 'WeChat rejected the request.' },
  WECHAT_CREDENTIALS_INVALID: { status: 500, message: 'The server is misconfigured.' },
  WECHAT_SIGNATURE_INVALID: { status: 400, message: 'rawData does not match its signature.' },
  WECHAT_DECRYPT_FAILED: { status: 400, message: 'The encrypted data could not be decrypted.' },
  WECHAT_SESSION_KEY_STALE: {
    status: 409,
    message:
      'The session_key changed at WeChat: call wx.login, log in again, then send the data again.',
  },
  WECHAT_PHONE_CODE_INVALID: {
    status: 400,
    message: 'The phone number code is invalid, expired or used; ask the user again.',
  },
  WECHAT_PHONE_QUOTA_EXHAUSTED: {
    status: 503,
    message:
      'The phone-number service of this mini program is used up; the operator must top it up.',
  },
  REAUTH_REQUIRED: { status: 403, message: 'Confirm with a fresh wx.login() code of this user.' },
  WECHAT_ACCESS_TOKEN_INVALID: { status: 502, message: 'WeChat rejected the access token.' },
  WECHAT_EVENT_SIGNATURE_INVALID: {
    status: 401,
    message:
      'The push is not signed with this server’s Token (or not sealed with its EncodingAESKey), or its timestamp is not current.',
  },
  STORAGE_UNAVAILABLE: { status: 503, message: 'Session storage is unavailable; try again later.' },
  STORAGE_OUTCOME_UNKNOWN: {
    status: 503,
    message:
      'Session storage did not confirm the change; it may have been made. Retry if the call is idempotent.',
  },
  CONFIG_INVALID: { status: 500, message: 'The server is misconfigured.' },
  INTERNAL_ERROR: { status: 500, message: 'Internal error.' },
} as const satisfies Record<string, { status: ContentfulStatusCode; message: string }>

/** Where wxa-auth sends detail for operators (the `log` option); `console` by default. */
export type Logger = Pick<Console, 'error' | 'warn'>

/** The union of all error codes; `switch (err.code)` narrows on it. */
export type WxaErrorCode = keyof typeof ERRORS

/** The HTTP status of each code (from {@link ERRORS}). */
export const ERROR_STATUS = Object.fromEntries(
  Object.entries(ERRORS).map(([code, { status }]) => [code, status]),
) as { [C in WxaErrorCode]: (typeof ERRORS)[C]['status'] }

const REALM = 'wxa-auth'
/** RFC 6750 error of a 401, for `WWW-Authenticate`. */
const CHALLENGE_ERROR: Partial<Record<WxaErrorCode, string>> = {
  TOKEN_INVALID: 'invalid_token',
  TOKEN_REVOKED: 'invalid_token',
  TOKEN_EXPIRED: 'invalid_token',
  SESSION_EXPIRED: 'invalid_token',
}
const quote = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`

/**
 * The one error class of wxa-auth. `code` is stable, `message` is safe to show
 * to a client; detail for operators goes into `cause`, which is logged and
 * never sent.
 *
 * @example
 * ```ts
 * try { await wechat.code2Session(code) }
 * catch (err) {
 *   if (err instanceof WxaAuthError && err.code === 'WECHAT_CODE_USED') { ... }
 * }
 * ```
 */
export class WxaAuthError extends Error {
  override readonly name = 'WxaAuthError'
  readonly code: WxaErrorCode
  /** Seconds the client should wait before retrying (429 / 503). */
  readonly retryAfter: number | undefined

  constructor(
    code: WxaErrorCode,
    message?: string,
    options?: { cause?: unknown; retryAfter?: number },
  ) {
    super(message ?? ERRORS[code].message, { cause: options?.cause })
    this.code = code
    this.retryAfter = options?.retryAfter
  }

  get status(): ContentfulStatusCode {
    return ERRORS[this.code].status
  }

  /**
   * The JSON error response `{ "error": { "code", "message" } }` with its
   * status, `WWW-Authenticate` on a 401, `Retry-After` when there is one, and
   * `Cache-Control: no-store`. A host app without wxa-auth's `onError` can
   * return it from its own error handler.
   *
   * @example
   * ```ts
   * app.onError((err) => (err instanceof WxaAuthError ? err.getResponse() : myError(err)))
   * ```
   */
  getResponse(): Response {
    const headers = new Headers({ 'Cache-Control': 'no-store' })
    if (this.status === 401) {
      const error = CHALLENGE_ERROR[this.code]
      headers.set(
        'WWW-Authenticate',
        `JWT realm=${quote(REALM)}${error ? `, error=${quote(error)}, error_description=${quote(this.message)}` : ''}`,
      )
    }
    if (this.retryAfter !== undefined) headers.set('Retry-After', String(this.retryAfter))
    return Response.json(
      { error: { code: this.code, message: this.message } },
      { status: this.status, headers },
    )
  }
}

/** Whether `err` is a {@link WxaAuthError}, optionally with one of `codes`. */
export function isWxaAuthError(err: unknown, ...codes: WxaErrorCode[]): err is WxaAuthError {
  return err instanceof WxaAuthError && (codes.length === 0 || codes.includes(err.code))
}
