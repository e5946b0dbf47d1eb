import { WxaAuthError, type WxaErrorCode } from '../errors'
import { parseJson } from '../util/json'
import { redact, registerSecret } from '../util/redact'
import type { PlatformSession } from './platform'

export const DEFAULT_TIMEOUT_MS = 5_000 // per attempt
export const DEFAULT_UPSTREAM_RETRIES = 2 // after the first attempt; see `upstreamCaller` for which failures
/**
 * The platform calls' retries by their 0.3 name.
 *
 * @deprecated since 0.4: {@link DEFAULT_UPSTREAM_RETRIES} (the SDK's retries are `DEFAULT_BUSY_RETRIES`)
 */
export const DEFAULT_RETRIES = DEFAULT_UPSTREAM_RETRIES
export const DEFAULT_RETRY_DELAY_MS = 200 // doubled on each retry

/** How a platform's API is reached: what every platform client takes. */
export interface CallerOptions {
  /** Base URL of the platform's server API, without a trailing slash. */
  baseUrl: string
  /** The fetch to use: global fetch, a service binding, or the emulator's stub. */
  fetch?: (input: Request | string | URL, init?: RequestInit) => Promise<Response>
  /** Milliseconds before one attempt is abandoned. @default 5000 */
  timeoutMs?: number
  /** Retries after the first attempt (see {@link upstreamCaller}). @default 2 */
  retries?: number
  /** Delay before the first retry, doubled after each. @default 200 */
  retryDelayMs?: number
}

/** A platform's answer that says no: the error to report, and whether the platform says it did nothing. */
export interface Refusal {
  error: WxaAuthError
  /** The platform was busy (`errcode` / `err_no` -1): trying again is safe, even with a single-use code. */
  busy: boolean
}

/** One call: where, what, and how to read a refusal in the answer. */
export interface CallSpec {
  path: string
  query?: Record<string, string>
  /** Sent as a JSON POST body; without it the call is a GET. */
  json?: object
  /** The call spends a single-use code: never retried after an answer that may have spent it. */
  singleUse?: boolean
  /** The refusal in a JSON answer, or undefined for a success. */
  refusal(body: Record<string, unknown>): Refusal | undefined
}

/** What a platform's error code means to wxa-auth. */
export type ErrorTable = Record<number, { code: WxaErrorCode; retryAfter?: number }>

/**
 * The error wxa-auth reports for a platform's error code: the neutral code
 * of `table`, else `UPSTREAM_ERROR`; the platform's own code and message
 * ride in `cause` (the log), never in the answer.
 *
 * @param label how the platform names its code (`errcode`, `err_no`)
 */
export function platformError(
  table: ErrorTable,
  api: string,
  label: string,
  code: number,
  message: unknown,
): WxaAuthError {
  const known = table[code]
  const detail = `${api}: ${label} ${code} ${typeof message === 'string' ? message : ''}`.trim()
  return new WxaAuthError(known?.code ?? 'UPSTREAM_ERROR', undefined, {
    cause: new Error(detail),
    ...(known?.retryAfter ? { retryAfter: known.retryAfter } : {}),
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** An answer that is not what the platform documents. */
export const badResponse = (detail: string) =>
  new WxaAuthError('UPSTREAM_BAD_RESPONSE', undefined, { cause: new Error(detail) })

/** A string with something in it. */
export const filled = (value: unknown): value is string => typeof value === 'string' && value !== ''

/**
 * The identity a code2Session answer carries, checked: `openid` and
 * `session_key` present, `unionid` only when the platform sent one.
 */
export function platformSession(
  api: string,
  { openid, session_key, unionid }: Record<string, unknown>,
): PlatformSession {
  if (!filled(openid) || !filled(session_key)) {
    throw badResponse(`${api}: openid or session_key missing`)
  }
  return { openid, sessionKey: session_key, ...(filled(unionid) ? { unionid } : {}) }
}

/**
 * The loop every platform client shares: one fetch per attempt with a
 * timeout, the answer read as a JSON object, and bounded retries with
 * backoff: after a busy answer always (the platform says the call did
 * nothing), after network errors and HTTP 5xx only when the call spends no
 * single-use code, since the platform may have spent it before the answer was
 * lost. Errors name the call by `api` only: URLs and bodies carry the app
 * secret, access tokens and codes, and fetch's own messages are redacted.
 *
 * @example
 * ```ts
 * const call = upstreamCaller({ baseUrl: 'https://api.q.qq.com' })
 * const body = await call('code2Session', { path: '/sns/jscode2session', query, singleUse: true, refusal })
 * ```
 */
export function upstreamCaller(options: CallerOptions) {
  const {
    baseUrl,
    fetch: doFetch = (input, init) => fetch(input, init),
    timeoutMs = DEFAULT_TIMEOUT_MS,
    retries = DEFAULT_UPSTREAM_RETRIES,
    retryDelayMs = DEFAULT_RETRY_DELAY_MS,
  } = options
  const base = baseUrl.replace(/\/+$/, '')

  /**
   * One attempt: a parsed JSON object, or a WxaAuthError saying why not. Its
   * timer is cleared once the answer is read (`AbortSignal.timeout`'s would
   * still fire `timeoutMs` later, on a call long finished).
   */
  async function attempt(api: string, url: string, json?: object): Promise<object> {
    const controller = new AbortController()
    const timer = setTimeout(
      () => controller.abort(new DOMException(`${timeoutMs} ms`, 'TimeoutError')),
      timeoutMs,
    )
    try {
      return await read(api, url, controller.signal, json)
    } finally {
      clearTimeout(timer)
    }
  }

  async function read(api: string, url: string, signal: AbortSignal, json?: object) {
    let res: Response
    try {
      res = await doFetch(url, {
        signal,
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
      body = parseJson(text)
    } catch {
      body = undefined
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw badResponse(`${api}: HTTP ${res.status}, not a JSON object (${text.length} bytes)`)
    }
    return body
  }

  return async function call(api: string, spec: CallSpec): Promise<Record<string, unknown>> {
    const { path, query, json, singleUse = false, refusal } = spec
    const url = `${base}${path}${query ? `?${new URLSearchParams(query)}` : ''}`
    for (let n = 0; ; n++) {
      let failure: WxaAuthError
      let busy = false
      try {
        const body = (await attempt(api, url, json)) as Record<string, unknown>
        const refused = refusal(body)
        if (!refused) return body
        ;({ error: failure, busy } = refused)
      } catch (err) {
        if (!(err instanceof WxaAuthError)) throw err
        failure = err
      }
      const retryable = busy || (!singleUse && failure.code === 'UPSTREAM_UNAVAILABLE')
      if (!retryable || n >= retries) throw failure
      await sleep(retryDelayMs * 2 ** n)
    }
  }
}

/** What {@link upstreamCaller} makes. */
export type UpstreamCall = ReturnType<typeof upstreamCaller>

/** One app's client options: its AppID and secret, and how the platform is reached. */
export interface AppClientOptions extends Omit<CallerOptions, 'baseUrl'> {
  appId: string
  appSecret: string
  /** Base URL of the platform's server API; each client names its default. */
  baseUrl?: string
}

/**
 * The caller of one app's client: the AppID and secret checked, the secret
 * registered for redaction (it never reaches a log), `baseUrl` defaulted.
 *
 * @param name the platform, for the messages (`WeChat`, `Douyin`, `QQ`)
 */
export function appCaller(
  name: string,
  { appId, appSecret, baseUrl, ...transport }: AppClientOptions,
  defaultBase: string,
): UpstreamCall {
  if (!appId) throw new WxaAuthError('CONFIG_INVALID', `${name} client: appId is required.`)
  if (!appSecret) throw new WxaAuthError('CONFIG_INVALID', `${name} client: appSecret is required.`)
  registerSecret(appSecret)
  return upstreamCaller({ ...transport, baseUrl: baseUrl ?? defaultBase })
}
