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
  NOT_OFFERED: {
    status: 400,
    message: 'The platform of this mini program does not offer that.',
  },
  AUTH_REQUIRED: { status: 401, message: 'Log in to use this route.' },
  TOKEN_INVALID: { status: 401, message: 'The token is not valid.' },
  TOKEN_EXPIRED: { status: 401, message: 'The token has expired; log in again.' },
  TOKEN_REVOKED: {
    status: 401,
    message: 'This refresh token was replaced and presented again; the session has ended.',
  },
  SESSION_EXPIRED: { status: 401, message: 'The session has ended; log in again.' },
  SESSION_NOT_FOUND: { status: 404, message: 'No such session.' },
  USER_NOT_FOUND: { status: 404, message: 'No such user.' },
  ADMIN_KEY_INVALID: {
    status: 401,
    message: 'Send an operator key of ADMIN_KEYS as Authorization: Bearer <key>.',
  },
  SCAN_TICKET_EXPIRED: {
    status: 410,
    message: 'This scan-to-login ticket has expired or does not exist; show a new code.',
  },
  SCAN_TICKET_USED: {
    status: 409,
    message: 'This scan-to-login ticket was already confirmed, denied or collected.',
  },
  RATE_LIMITED: { status: 429, message: 'Too many requests; try again later.' },
  CODE_INVALID: {
    status: 401,
    message: 'The login code is invalid or expired; log in again (wx.login, tt.login, qq.login).',
  },
  CODE_USED: { status: 401, message: 'The login code was already used; log in again.' },
  STATE_INVALID: {
    status: 400,
    message:
      'The state is not one this server issued for this app, has expired, or was already used; start the login again.',
  },
  REDIRECT_URI_INVALID: {
    status: 400,
    message: 'The redirect URI is not on this server’s list (WECHAT_REDIRECT_URIS).',
  },
  SNAPSHOT_USER: {
    status: 403,
    message:
      'WeChat shows this page in snapshot mode, whose user is not the real one: ask the user to open the full page, then log in again.',
  },
  LOGIN_IN_PROGRESS: {
    status: 409,
    message: 'This code is being exchanged by another request; retry in a moment.',
  },
  CLOUD_IDENTITY_MISSING: {
    status: 401,
    message:
      'No login code, and no WeChat Cloud Hosting identity (X-WX-SOURCE, X-WX-OPENID, X-WX-APPID): call through wx.cloud.callContainer, or send a code.',
  },
  USER_BLOCKED: { status: 403, message: 'The platform blocked this user as high-risk.' },
  USER_BANNED: {
    status: 403,
    message: 'An operator banned this user; no login until the ban is lifted (see until).',
  },
  UPSTREAM_RATE_LIMITED: {
    status: 429,
    message: 'Too many logins for this user; try again in a minute.',
  },
  UPSTREAM_UNAVAILABLE: {
    status: 503,
    message: 'The mini program platform is unavailable; try again later.',
  },
  UPSTREAM_TIMEOUT: {
    status: 504,
    message: 'The mini program platform did not answer in time; try again later.',
  },
  UPSTREAM_BAD_RESPONSE: {
    status: 502,
    message: 'The mini program platform sent an answer that could not be read.',
  },
  UPSTREAM_ERROR: { status: 502, message: 'The mini program platform rejected the request.' },
  APP_CREDENTIALS_INVALID: { status: 500, message: 'The server is misconfigured.' },
  SIGNATURE_INVALID: { status: 400, message: 'rawData does not match its signature.' },
  DECRYPT_FAILED: { status: 400, message: 'The encrypted data could not be decrypted.' },
  SESSION_KEY_STALE: {
    status: 409,
    message: 'The session_key changed at the platform: log in again, then send the data again.',
  },
  LOGIN_CODE_REQUIRED: {
    status: 409,
    message:
      'This session has no session_key (a Cloud Hosting login): send a fresh wx.login code as `code` with the data.',
  },
  PHONE_CODE_INVALID: {
    status: 400,
    message: 'The phone number code is invalid, expired or used; ask the user again.',
  },
  WECHAT_PHONE_QUOTA_EXHAUSTED: {
    status: 503,
    message:
      'The phone-number service of this mini program is used up; the operator must top it up.',
  },
  NICKNAME_INVALID: {
    status: 422,
    message: 'The nickname must be 1 to 32 visible characters, without control or bidi characters.',
  },
  NICKNAME_RISKY: {
    status: 422,
    message: 'The platform’s content check refused this nickname; choose another.',
  },
  AVATAR_INVALID: {
    status: 415,
    message:
      'The avatar must be a well-formed PNG, JPEG or WebP image, with nothing after its end.',
  },
  AVATAR_TOO_LARGE: { status: 413, message: 'The avatar is too large.' },
  REAUTH_REQUIRED: { status: 403, message: 'Confirm with a fresh login code of this user.' },
  ACCESS_TOKEN_INVALID: { status: 502, message: 'The platform rejected the access token.' },
  WECHAT_EVENT_SIGNATURE_INVALID: {
    status: 401,
    message:
      'The push is not signed with this server’s Token (or not sealed with its EncodingAESKey), or its timestamp is not current.',
  },
  EVENT_SIGNATURE_INVALID: {
    status: 401,
    message: 'The notification is not signed by the platform.',
  },
  EVENT_IN_PROGRESS: {
    status: 503,
    message: 'Another delivery of this push is being acted on; the platform retries it.',
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

/**
 * The codes of 0.2 that 0.3 renamed (they were WeChat's names for what every
 * platform has), and what they are now. Until 0.4 an error carries its old
 * code as `alias`, and {@link isWxaAuthError} matches either.
 * @deprecated use the new codes
 */
export const ERROR_ALIASES = {
  WECHAT_CODE_INVALID: 'CODE_INVALID',
  WECHAT_CODE_USED: 'CODE_USED',
  WECHAT_USER_BLOCKED: 'USER_BLOCKED',
  WECHAT_RATE_LIMITED: 'UPSTREAM_RATE_LIMITED',
  WECHAT_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  WECHAT_TIMEOUT: 'UPSTREAM_TIMEOUT',
  WECHAT_BAD_RESPONSE: 'UPSTREAM_BAD_RESPONSE',
  WECHAT_ERROR: 'UPSTREAM_ERROR',
  WECHAT_CREDENTIALS_INVALID: 'APP_CREDENTIALS_INVALID',
  WECHAT_SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  WECHAT_DECRYPT_FAILED: 'DECRYPT_FAILED',
  WECHAT_SESSION_KEY_STALE: 'SESSION_KEY_STALE',
  WECHAT_PHONE_CODE_INVALID: 'PHONE_CODE_INVALID',
  WECHAT_ACCESS_TOKEN_INVALID: 'ACCESS_TOKEN_INVALID',
} as const satisfies Record<string, keyof typeof ERRORS>

/** A code of 0.2 that 0.3 renamed. @deprecated */
export type LegacyErrorCode = keyof typeof ERROR_ALIASES

/** The 0.2 name of each renamed code. */
const ALIAS_OF = Object.fromEntries(
  Object.entries(ERROR_ALIASES).map(([legacy, code]) => [code, legacy]),
) as Partial<Record<keyof typeof ERRORS, LegacyErrorCode>>

/** The current code of `code`, which may be a 0.2 name. */
const current = (code: WxaErrorCode | LegacyErrorCode): WxaErrorCode =>
  (ERROR_ALIASES as Record<string, WxaErrorCode>)[code] ?? (code as WxaErrorCode)

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
 * try { await app.code2Session({ code }) }
 * catch (err) {
 *   if (err instanceof WxaAuthError && err.code === 'CODE_USED') { ... }
 * }
 * ```
 */
export class WxaAuthError extends Error {
  override readonly name = 'WxaAuthError'
  readonly code: WxaErrorCode
  /** Seconds the client should wait before retrying (429 / 503). */
  readonly retryAfter: number | undefined
  /** The platform whose call failed, when one did: only WeChat's errors carry a 0.2 alias. */
  readonly platform: string | undefined
  /** `USER_BANNED`: unix seconds when the ban lifts itself; in the JSON error too. */
  readonly until: number | undefined

  constructor(
    code: WxaErrorCode | LegacyErrorCode,
    message?: string,
    options?: {
      cause?: unknown
      retryAfter?: number | undefined
      platform?: string | undefined
      until?: number | undefined
    },
  ) {
    const now = current(code)
    super(message ?? ERRORS[now].message, { cause: options?.cause })
    this.code = now
    this.retryAfter = options?.retryAfter
    this.platform = options?.platform
    this.until = options?.until
  }

  /**
   * The 0.2 name of this error's code, when 0.3 renamed it. 0.2 served WeChat
   * alone, so an error of another platform has none. @deprecated until 0.4
   */
  get alias(): LegacyErrorCode | undefined {
    return this.platform === undefined || this.platform === 'wechat'
      ? ALIAS_OF[this.code]
      : undefined
  }

  get status(): ContentfulStatusCode {
    return ERRORS[this.code].status
  }

  /**
   * The JSON error response `{ "error": { "code", "message", "alias"?, "until"? } }` with its
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
    if (this.code === 'ADMIN_KEY_INVALID') {
      headers.set('WWW-Authenticate', `Bearer realm=${quote(`${REALM} admin`)}`)
    } else if (this.status === 401) {
      const error = CHALLENGE_ERROR[this.code]
      headers.set(
        'WWW-Authenticate',
        `JWT realm=${quote(REALM)}${error ? `, error=${quote(error)}, error_description=${quote(this.message)}` : ''}`,
      )
    }
    if (this.retryAfter !== undefined) headers.set('Retry-After', String(this.retryAfter))
    const alias = this.alias
    return Response.json(
      {
        error: {
          code: this.code,
          message: this.message,
          ...(alias ? { alias } : {}),
          ...(this.until !== undefined ? { until: this.until } : {}),
        },
      },
      { status: this.status, headers },
    )
  }
}

/** Whether `err` is a {@link WxaAuthError}, optionally with one of `codes` (0.2 names match too). */
export function isWxaAuthError(
  err: unknown,
  ...codes: (WxaErrorCode | LegacyErrorCode)[]
): err is WxaAuthError {
  return (
    err instanceof WxaAuthError &&
    (codes.length === 0 || codes.some((c) => current(c) === err.code))
  )
}
