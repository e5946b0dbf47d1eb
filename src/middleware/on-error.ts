import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { ERROR_STATUS, WxaAuthError, type WxaErrorCode } from '../errors'
import { redactUrl } from '../wechat/client'

const REALM = 'wxa-auth'
const CHALLENGE_ERROR: Partial<Record<WxaErrorCode, string>> = {
  TOKEN_INVALID: 'invalid_token',
  TOKEN_REVOKED: 'invalid_token',
  TOKEN_EXPIRED: 'invalid_token',
  SESSION_EXPIRED: 'invalid_token',
}

const quote = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`

/** The JSON error response: `{ "error": { "code", "message" } }`. */
export function errorResponse(c: Context, err: WxaAuthError): Response {
  const status = ERROR_STATUS[err.code]
  if (status === 401) {
    const error = CHALLENGE_ERROR[err.code]
    c.header(
      'WWW-Authenticate',
      `JWT realm=${quote(REALM)}${error ? `, error=${quote(error)}, error_description=${quote(err.message)}` : ''}`,
    )
  }
  if (err.retryAfter !== undefined) c.header('Retry-After', String(err.retryAfter))
  c.header('Cache-Control', 'no-store')
  return c.json({ error: { code: err.code, message: err.message } }, status)
}

function describe(err: unknown): string {
  const parts: string[] = []
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) {
    parts.push(e.message)
  }
  return redactUrl(parts.join(' <- '))
}

/**
 * The `onError` of wxa-auth apps: known errors become their JSON error, any
 * other error a generic 500. Detail goes to the log, never to the client.
 */
export function onError(err: Error, c: Context): Response {
  if (err instanceof WxaAuthError) {
    if (err.status >= 500) console.error(`wxa-auth ${err.code}: ${describe(err.cause ?? err)}`)
    return errorResponse(c, err)
  }
  if (err instanceof HTTPException && err.status === 413) {
    return errorResponse(c, new WxaAuthError('PAYLOAD_TOO_LARGE'))
  }
  console.error(`wxa-auth INTERNAL_ERROR: ${describe(err)}\n${redactUrl(err.stack ?? '')}`)
  return errorResponse(c, new WxaAuthError('INTERNAL_ERROR'))
}
