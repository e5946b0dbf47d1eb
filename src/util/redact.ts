const SECRET_PARAMS = /([?&](?:secret|access_token|js_code|code)=)[^&#\s"']*/gi
const MIN_REDACTED = 8 // characters: shorter values would redact ordinary words
const secrets = new Set<string>()

/**
 * Remembers `value` (an AppSecret, a signing or storage secret, the push
 * Token) so that {@link redact} removes it from anything bound for a log.
 * Per isolate; values never leave it.
 */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= MIN_REDACTED) secrets.add(value)
}

/**
 * `text` without the values of `secret`, `access_token`, `js_code` and
 * `code` query parameters, nor any registered secret: for anything that may
 * quote a WeChat URL or a secret (a fetch error's message) on its way to a log.
 */
export function redact(text: string): string {
  let out = text.replace(SECRET_PARAMS, '$1[redacted]')
  for (const secret of secrets) out = out.replaceAll(secret, '[redacted]')
  return out
}
