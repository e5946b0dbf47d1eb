import { WxaAuthError } from '../errors'

// Readers of configuration variables (a Worker's env, Node's process.env):
// text, whole numbers, URLs. Messages name the variable, never its value.

/** The variables as given: a Worker's env, Node's `process.env`, a test's object. */
type Variables = Readonly<Record<string, unknown>>

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/** A variable as text: unset, empty and non-strings are undefined. */
export function text(vars: Variables, name: string): string | undefined {
  const value = vars[name]
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined
}

/** A whole number at least `min`, or `fallback` when unset. */
export function whole(vars: Variables, name: string, min: number, fallback: number): number {
  const value = text(vars, name)
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) {
    throw new WxaAuthError('CONFIG_INVALID', `${name} must be a whole number >= ${min}.`)
  }
  return n
}

/**
 * A platform API base (`WECHAT_API_BASE` and friends): https, or plain http to
 * this machine (a local relay or emulator). Anything else would send the
 * app secret in cleartext, or make fetch throw an error that quotes it.
 */
export function apiBase(vars: Variables, name: string): string | undefined {
  const value = text(vars, name)
  if (!value) return undefined
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {}
  if (
    !url ||
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    !(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)))
  ) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      `${name} must be an https:// URL without credentials or query (http:// only for localhost and 127.0.0.1).`,
    )
  }
  return value
}
