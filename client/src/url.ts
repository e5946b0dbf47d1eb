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
const BASE_URL = /^(https?):\/\/([^\s/?#@\\]+)(?:\/[^\s?#@\\]*)?$/i
// The hosts plain http may go to: this machine, where nothing crosses a network.
const LOOPBACK = /^(?:localhost|127\.0\.0\.1|\[::1\])(?::\d+)?$/i

/**
 * `baseUrl` without trailing slashes, after checking it is an http(s) origin
 * with an optional path and nothing else (no query, fragment or credentials),
 * and https unless its host is localhost, 127.0.0.1 or [::1]: tokens and
 * login codes must not cross a network in the clear.
 */
export function checkBaseUrl(baseUrl: string): string {
  const base = String(baseUrl ?? '').replace(/\/+$/, '')
  const parts = BASE_URL.exec(base)
  if (!parts) {
    throw new TypeError(`createClient: baseUrl must be http(s)://host[/path], not ${baseUrl}`)
  }
  if (/^http$/i.test(parts[1] as string) && !LOOPBACK.test(parts[2] as string)) {
    throw new TypeError(
      `createClient: baseUrl must be https:// (http:// only for localhost, 127.0.0.1 or [::1]), not ${baseUrl}`,
    )
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
