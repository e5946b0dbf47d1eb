import { WxaAuthError, type WxaErrorCode } from '../../errors'
import { redact } from '../../util/redact'
import { DEFAULT_TIMEOUT_MS } from '../caller'
import { rsa2Sign, rsa2Verify, signingString } from './keys'

export const ALIPAY_API_BASE = 'https://openapi.alipay.com/gateway.do'
const BEIJING = 8 * 60 * 60 * 1000 // UTC+8, milliseconds: the gateway's `timestamp` is Beijing time

/** What a call is signed and checked with: the app's key, Alipay's, and in certificate mode the SNs. */
export interface GatewayKeys {
  sign: CryptoKey
  verify: CryptoKey
  appCertSn?: string | undefined
  rootCertSn?: string | undefined
}

export interface GatewayOptions {
  appId: string
  /** The keys, imported once on first use. */
  keys: () => Promise<GatewayKeys>
  /** The gateway URL. @default 'https://openapi.alipay.com/gateway.do' */
  baseUrl?: string | undefined
  fetch?: ((input: Request | string | URL, init?: RequestInit) => Promise<Response>) | undefined
  /** Milliseconds before the call is abandoned. @default 5000 */
  timeoutMs?: number | undefined
}

/**
 * The spans of a JSON object's top-level members, as they are in `text`:
 * Alipay signs the exact text of the inner object, so it is cut out, never
 * re-serialized. Throws on anything that is not one JSON object.
 */
export function memberSpans(text: string): Map<string, string> {
  let i = 0
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i] as string)) i++
  }
  const string = () => {
    if (text[i] !== '"') throw new Error('string expected')
    const from = i++
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    if (i >= text.length) throw new Error('unterminated string')
    i++
    return JSON.parse(text.slice(from, i)) as string
  }
  const skipValue = () => {
    const first = text[i]
    if (first === '"') return void string()
    if (first !== '{' && first !== '[') {
      while (i < text.length && !',}] \t\r\n'.includes(text[i] as string)) i++
      return
    }
    let depth = 0
    while (i < text.length) {
      const ch = text[i]
      if (ch === '"') {
        string()
        continue
      }
      if (ch === '{' || ch === '[') depth++
      else if (ch === '}' || ch === ']') depth--
      i++
      if (depth === 0) return
    }
    throw new Error('truncated')
  }
  const spans = new Map<string, string>()
  ws()
  if (text[i++] !== '{') throw new Error('not an object')
  ws()
  while (text[i] !== '}') {
    ws()
    const key = string()
    ws()
    if (text[i++] !== ':') throw new Error('colon expected')
    ws()
    const from = i
    skipValue()
    spans.set(key, text.slice(from, i))
    ws()
    if (text[i] === ',') i++
    else if (text[i] !== '}') throw new Error('comma expected')
    ws()
  }
  JSON.parse(text) // the whole is valid JSON too
  return spans
}

/** The gateway's `timestamp`: `yyyy-MM-dd HH:mm:ss`, Beijing time. */
export const gatewayTime = (ms: number) =>
  new Date(ms + BEIJING).toISOString().slice(0, 19).replace('T', ' ')

// https://opendocs.alipay.com/common/02km9f (公共错误码) and the API's own sub_codes.
const CODE_SUB_CODES = new Set([
  'isv.code-invalid',
  'isv.invalid-auth-code',
  'isv.auth-code-invalid',
  'isv.code-expired',
])

/** What an error answer (`code` not 10000) means to wxa-auth. */
export function gatewayError(api: string, answer: Record<string, unknown>): WxaAuthError {
  const code = String(answer.code ?? '')
  const sub = String(answer.sub_code ?? '')
  const detail = `${api}: code ${code} ${sub} ${String(answer.sub_msg ?? answer.msg ?? '')}`.trim()
  let mapped: WxaErrorCode = 'UPSTREAM_ERROR'
  let retryAfter: number | undefined
  if (CODE_SUB_CODES.has(sub)) mapped = 'CODE_INVALID'
  else if (code === '20000' || sub.startsWith('aop.') || /limit|busy|unavailable/i.test(sub)) {
    // Unknown errors (aop.unknow-error), throttling (…-over-limit), service unavailable.
    mapped = 'UPSTREAM_UNAVAILABLE'
    retryAfter = 5
  } else if (
    /^isv\.(invalid-signature|missing-signature|invalid-app-id|invalid-app-cert-sn|invalid-alipay-root-cert-sn|insufficient-isv-permissions|app-unauthorized)/.test(
      sub,
    )
  ) {
    mapped = 'APP_CREDENTIALS_INVALID'
  }
  return new WxaAuthError(mapped, undefined, {
    cause: new Error(detail),
    ...(retryAfter ? { retryAfter } : {}),
  })
}

const badResponse = (detail: string) =>
  new WxaAuthError('UPSTREAM_BAD_RESPONSE', undefined, { cause: new Error(detail) })

/**
 * A caller of Alipay's open platform gateway: each call is a form POST with
 * the common parameters and the business ones, signed with the app's key
 * (RSA2); the answer's inner object is believed only once its `sign` checks
 * out under Alipay's key. Never retried: `alipay.system.oauth.token` spends
 * the code.
 */
export function gatewayCaller({
  appId,
  keys,
  baseUrl = ALIPAY_API_BASE,
  fetch: doFetch = (input, init) => fetch(input, init),
  timeoutMs = DEFAULT_TIMEOUT_MS,
}: GatewayOptions) {
  return async function call(
    method: string,
    business: Record<string, string>,
  ): Promise<Record<string, unknown>> {
    const api = method
    const { sign, verify, appCertSn, rootCertSn } = await keys()
    const params: Record<string, string | undefined> = {
      app_id: appId,
      method,
      format: 'JSON',
      charset: 'utf-8',
      sign_type: 'RSA2',
      timestamp: gatewayTime(Date.now()),
      version: '1.0',
      app_cert_sn: appCertSn,
      alipay_root_cert_sn: rootCertSn,
      ...business,
    }
    params.sign = await rsa2Sign(sign, signingString(params))
    const body = new URLSearchParams(
      Object.entries(params).filter((e): e is [string, string] => !!e[1]),
    )
    const controller = new AbortController()
    const timer = setTimeout(
      () => controller.abort(new DOMException(`${timeoutMs} ms`, 'TimeoutError')),
      timeoutMs,
    )
    let status: number
    let text: string
    try {
      const res = await doFetch(baseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        body,
        signal: controller.signal,
      })
      status = res.status
      text = await res.text()
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError'
      const detail = redact(err instanceof Error ? `${err.name}: ${err.message}` : String(err))
      throw new WxaAuthError(timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE', undefined, {
        cause: new Error(`${api}: ${timedOut ? 'timed out' : 'network error'} (${detail})`),
      })
    } finally {
      clearTimeout(timer)
    }
    if (status >= 500) {
      throw new WxaAuthError('UPSTREAM_UNAVAILABLE', undefined, {
        cause: new Error(`${api}: HTTP ${status}`),
      })
    }
    let spans: Map<string, string>
    try {
      spans = memberSpans(text)
    } catch {
      throw badResponse(`${api}: HTTP ${status}, not a JSON object (${text.length} bytes)`)
    }
    const key = `${method.replace(/\./g, '_')}_response`
    const inner = spans.get(key) ?? spans.get('error_response')
    const signature = spans.has('sign') ? JSON.parse(spans.get('sign') as string) : undefined
    if (inner === undefined) throw badResponse(`${api}: no ${key}`)
    const answer = JSON.parse(inner) as unknown
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
      throw badResponse(`${api}: ${key} is not an object`)
    }
    const fields = answer as Record<string, unknown>
    const success = fields.code === undefined || String(fields.code) === '10000'
    // An error answer may come unsigned (a request whose own sign was refused);
    // believing it only refuses the login. Anything that says yes must be signed.
    if (signature !== undefined || success) {
      if (!(await rsa2Verify(verify, inner, signature))) {
        throw new WxaAuthError('UPSTREAM_ERROR', undefined, {
          cause: new Error(`${api}: the answer's sign does not verify with Alipay's public key`),
        })
      }
    }
    if (!success) throw gatewayError(api, fields)
    return fields
  }
}
