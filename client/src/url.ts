import { WxaClientError } from './errors'

// One `/`, then no second `/` or `\` (a host to URL parsers), and nowhere a
// backslash, whitespace or control character: URL parsers drop tabs and
// newlines, so `/\t/evil.example` would become `//evil.example`.
// biome-ignore lint/suspicious/noControlCharactersInRegex: they are what it rejects
const PLAIN = /^\/(?![/\\])[^\\\s\u0000-\u001f\u007f]*$/
// The path part (before `?` or `#`) has no `@` and no `.` or `..` segment, and
// none of them encoded, nor an encoded `/` or `\`: some servers and proxies
// decode them, and `%2e%2e` is `..` to WHATWG URL parsers.
const TRICKY_PATH = /@|%(?:2f|5c|2e|40|[01][0-9a-f]|7f)|(?:^|\/)\.{1,2}(?:\/|$)/i
const BASE_URL = /^https?:\/\/[^\s/?#@\\]+(?:\/[^\s?#@\\]*)?$/i

/**
 * `baseUrl` without trailing slashes, after checking it is an http(s) origin
 * with an optional path and nothing else (no query, fragment or credentials).
 */
export function checkBaseUrl(baseUrl: string): string {
  const base = String(baseUrl ?? '').replace(/\/+$/, '')
  if (!BASE_URL.test(base)) {
    throw new TypeError(`createClient: baseUrl must be http(s)://host[/path], not ${baseUrl}`)
  }
  return base
}

/**
 * `base + path`, when `path` stays below `base`: it starts with a single `/`
 * and holds nothing that would move a URL parser to another host or above
 * `base`'s path. Anything else is `BAD_URL`, thrown before a token is sent.
 * No `URL` object: older WeChat base libraries do not have one.
 */
export function joinUrl(base: string, path: string): string {
  if (
    typeof path !== 'string' ||
    !PLAIN.test(path) ||
    TRICKY_PATH.test(path.split(/[?#]/)[0] as string)
  ) {
    throw new WxaClientError(
      'BAD_URL',
      `${JSON.stringify(String(path))} is not a path below baseUrl: start it with a single /, without \\, @, .. or encoded separators`,
    )
  }
  return base + path
}
