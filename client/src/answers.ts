// Reading the server's answers, for client.ts and session.ts alike.
import type { AdapterResponse } from './adapters'
import { WxaClientError } from './errors'

/** An answer of any network call; a download's has its file. */
export type Answer = AdapterResponse & { tempFilePath?: string }

/** Ms to wait before retrying a 429 or 503 that says so; `Retry-After` in seconds only. */
export function retryAfter(res: Answer): number | undefined {
  if (res.statusCode !== 429 && res.statusCode !== 503) return undefined
  for (const name in res.header) {
    if (name.toLowerCase() !== 'retry-after') continue
    const seconds = Number(res.header[name])
    return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined
  }
  return undefined
}

/** `error.code` of a wxa-auth JSON error answer. */
export function serverCode(res: Answer): string | undefined {
  const error = (res.data as { error?: { code?: unknown } } | null)?.error
  return typeof error?.code === 'string' ? error.code : undefined
}

/** The error of an answer that is not the one wanted: the server's code, or BAD_RESPONSE. */
export function errorFrom(res: Answer, path: string): WxaClientError {
  const code = serverCode(res)
  const error = (res.data as { error?: { message?: unknown; alias?: unknown } } | null)?.error
  const message = error?.message
  const wait = retryAfter(res)
  return new WxaClientError(
    (code ?? 'BAD_RESPONSE') as WxaClientError['code'],
    typeof message === 'string' ? message : `${path} answered HTTP ${res.statusCode}`,
    {
      status: res.statusCode,
      ...(code ? { serverCode: code } : {}),
      ...(typeof error?.alias === 'string' ? { alias: error.alias } : {}),
      ...(wait === undefined ? {} : { retryAfter: wait / 1000 }),
    },
  )
}
