import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * Every error wxa-auth reports, with the HTTP status it maps to.
 * The codes are stable: clients may branch on them. Messages may change.
 */
export const ERROR_STATUS = {
  INVALID_JSON: 400,
  INVALID_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  SESSION_TOO_LARGE: 413,
  UNKNOWN_APP: 400,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  SESSION_NOT_FOUND: 404,
  AUTH_REQUIRED: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  SESSION_EXPIRED: 401,
  TOKEN_REVOKED: 401,
  WECHAT_CODE_INVALID: 401,
  WECHAT_CODE_USED: 401,
  WECHAT_USER_BLOCKED: 403,
  WECHAT_RATE_LIMITED: 429,
  WECHAT_UNAVAILABLE: 503,
  WECHAT_TIMEOUT: 504,
  WECHAT_BAD_RESPONSE: 502,
  WECHAT_ERROR: 502,
  WECHAT_CREDENTIALS_INVALID: 500,
  WECHAT_DECRYPT_FAILED: 400,
  WECHAT_SIGNATURE_INVALID: 400,
  WECHAT_SESSION_KEY_STALE: 409,
  WECHAT_PHONE_CODE_INVALID: 400,
  WECHAT_ACCESS_TOKEN_INVALID: 502,
  WECHAT_EVENT_SIGNATURE_INVALID: 401,
  STORAGE_UNAVAILABLE: 503,
  CONFIG_INVALID: 500,
  INTERNAL_ERROR: 500,
} as const satisfies Record<string, ContentfulStatusCode>

/** The union of all error codes; `switch (err.code)` narrows on it. */
export type WxaErrorCode = keyof typeof ERROR_STATUS

const DEFAULT_MESSAGES: Record<WxaErrorCode, string> = {
  INVALID_JSON: 'The request body is not valid JSON.',
  INVALID_REQUEST: 'The request is not valid.',
  PAYLOAD_TOO_LARGE: 'The request body is too large.',
  SESSION_TOO_LARGE: 'The session data would exceed its size limit; nothing was stored.',
  UNKNOWN_APP: 'This server does not serve that AppID.',
  NOT_FOUND: 'Not found.',
  RATE_LIMITED: 'Too many requests; try again later.',
  SESSION_NOT_FOUND: 'No such session.',
  AUTH_REQUIRED: 'Log in to use this route.',
  TOKEN_INVALID: 'The token is not valid.',
  TOKEN_EXPIRED: 'The token has expired; log in again.',
  SESSION_EXPIRED: 'The session has ended; log in again.',
  TOKEN_REVOKED: 'A newer token of this session replaced this one.',
  WECHAT_CODE_INVALID: 'The login code is invalid or expired; call wx.login again.',
  WECHAT_CODE_USED: 'The login code was already used; call wx.login again.',
  WECHAT_USER_BLOCKED: 'WeChat blocked this user as high-risk.',
  WECHAT_RATE_LIMITED: 'Too many logins for this user; try again in a minute.',
  WECHAT_UNAVAILABLE: 'WeChat is unavailable; try again later.',
  WECHAT_TIMEOUT: 'WeChat did not answer in time; try again later.',
  WECHAT_BAD_RESPONSE: 'WeChat sent an answer that could not be read.',
  WECHAT_ERROR: 'WeChat rejected the request.',
  WECHAT_CREDENTIALS_INVALID: 'The server is misconfigured.',
  WECHAT_DECRYPT_FAILED: 'The encrypted data could not be decrypted.',
  WECHAT_SIGNATURE_INVALID: 'rawData does not match its signature.',
  WECHAT_SESSION_KEY_STALE:
    'The session_key changed at WeChat: call wx.login, log in again, then send the data again.',
  WECHAT_PHONE_CODE_INVALID:
    'The phone number code is invalid, expired or used; ask the user again.',
  WECHAT_ACCESS_TOKEN_INVALID: 'WeChat rejected the access token.',
  WECHAT_EVENT_SIGNATURE_INVALID:
    'The push is not signed with this server’s Token (or not sealed with its EncodingAESKey), or its timestamp is not current.',
  STORAGE_UNAVAILABLE: 'Session storage is unavailable; try again later.',
  CONFIG_INVALID: 'The server is misconfigured.',
  INTERNAL_ERROR: 'Internal error.',
}

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
    super(message ?? DEFAULT_MESSAGES[code], { cause: options?.cause })
    this.code = code
    this.retryAfter = options?.retryAfter
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code]
  }
}

/** Whether `err` is a {@link WxaAuthError}, optionally with one of `codes`. */
export function isWxaAuthError(err: unknown, ...codes: WxaErrorCode[]): err is WxaAuthError {
  return err instanceof WxaAuthError && (codes.length === 0 || codes.includes(err.code))
}
