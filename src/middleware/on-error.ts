import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { type Logger, WxaAuthError } from '../errors'
import { redact } from '../util/redact'

/** The error chain's messages, innermost last, with secret-bearing URL parameters redacted. */
export function describeError(err: unknown): string {
  const parts: string[] = []
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) {
    parts.push(e.message)
  }
  return redact(parts.join(' <- '))
}

/**
 * The `onError` of wxa-auth apps: known errors become their JSON error, any
 * other error a generic 500. Detail goes to `log`, never to the client: a 5xx
 * as an error, a 4xx that has a cause (WeChat's errcode, the decrypt check
 * that failed) as a warning.
 *
 * @param options.log where detail goes @default console
 */
export function errorHandler({ log = console }: { log?: Logger } = {}) {
  return function onError(err: Error, _c: Context): Response {
    if (err instanceof WxaAuthError) {
      if (err.status >= 500) log.error(`wxa-auth ${err.code}: ${describeError(err.cause ?? err)}`)
      else if (err.cause) log.warn(`wxa-auth ${err.code}: ${describeError(err.cause)}`)
      return err.getResponse()
    }
    if (err instanceof HTTPException) {
      // Hono's own: the body limit (413) and the JSON validator's unparsable body (400).
      if (err.status === 413) return new WxaAuthError('PAYLOAD_TOO_LARGE').getResponse()
      if (err.status === 400) return new WxaAuthError('INVALID_JSON').getResponse()
    }
    log.error(`wxa-auth INTERNAL_ERROR: ${describeError(err)}\n${redact(err.stack ?? '')}`)
    return new WxaAuthError('INTERNAL_ERROR').getResponse()
  }
}

/** {@link errorHandler} with its defaults: `app.onError(onError)`. */
export const onError = errorHandler()
