import { WxaAuthError } from '../errors'
import { type NativeKey, nativeCrypto } from '../util/native-crypto'
import { registerSecret } from '../util/redact'
import { isGuessable } from './guessable'

export const MIN_SECRET_LENGTH = 32 // characters; a shorter HS256 secret is guessable

/** One HS256 signing secret and the `kid` that names it in token headers. */
export interface SigningSecret {
  kid: string
  secret: string
}

/** Imported keys: sign with `current`, verify with any key in `byKid`. */
export interface KeyRing {
  current: { kid: string; key: CryptoKey }
  byKid: ReadonlyMap<string, CryptoKey>
  /** The same keys as the runtime's synchronous HMAC takes them, where it has one (Node). */
  nativeByKid?: ReadonlyMap<string, NativeKey>
}

const KID = /^[A-Za-z0-9._-]{1,64}$/
const MIN_DISTINCT = 8 // characters; `openssl rand -hex 16` has fewer about once in 10 million draws
/** Words that mark a placeholder copied from documentation rather than a generated secret. */
const PLACEHOLDER = /example|placeholder|change-?me|replace-?me|secret-of|your-|<|>/i

/**
 * Throws unless `value` looks like a generated secret: long enough, not a
 * placeholder from the docs, and not built from words, keyboard or digit
 * runs or repeats (what a guesser tries first). Every secret wxa-auth takes
 * is checked with it. The message names `name`, never any part of the value.
 *
 * @throws WxaAuthError `CONFIG_INVALID`
 */
export function checkSecret(name: string, value: string | undefined): string {
  const problem = !value
    ? 'is not set'
    : value.length < MIN_SECRET_LENGTH
      ? `is shorter than ${MIN_SECRET_LENGTH} characters`
      : /\s/.test(value)
        ? 'contains whitespace (a space or a line break pasted with it?)'
        : new Set(value).size < MIN_DISTINCT || PLACEHOLDER.test(value) || isGuessable(value)
          ? 'does not look random (a placeholder, words, keyboard or digit runs, or repeats)'
          : null
  if (problem) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      `${name} ${problem}. Generate one with \`openssl rand -base64 32\`.`,
    )
  }
  registerSecret(value)
  return value as string
}

/**
 * Parses the key ring from the environment. `JWT_SECRETS` is a
 * whitespace-separated list of `kid:secret`, newest first (the first signs);
 * `JWT_SECRET` alone is a one-key ring with kid `main`. Errors name the
 * variable and the entry's position, never a kid or a secret: a bare secret
 * in `JWT_SECRETS` must not end up in a message (or, as a kid, in a token header).
 *
 * @throws WxaAuthError `CONFIG_INVALID` naming the variable at fault
 */
export function parseSecrets(env: { JWT_SECRET?: string; JWT_SECRETS?: string }): SigningSecret[] {
  const listed = env.JWT_SECRETS?.trim()
  if (!listed) return [{ kid: 'main', secret: checkSecret('JWT_SECRET', env.JWT_SECRET) }]
  return kidEntries('JWT_SECRETS', listed.split(/\s+/), 'secret', (_kid, i) => `entry ${i + 1}`)
}

/**
 * The `kid:secret` entries of `variable` (JWT_SECRETS, ADMIN_KEYS): each kid
 * unique and of letters, digits, `.`, `_` and `-`, each secret checked by
 * {@link checkSecret} under the name `<variable> (<label>)`. A message names
 * the entry's position or kid, never a secret.
 *
 * @param what what the entries hold, for the message (`kid:<what>`)
 * @throws WxaAuthError `CONFIG_INVALID`
 */
export function kidEntries(
  variable: string,
  entries: string[],
  what: string,
  label: (kid: string, index: number) => string,
): { kid: string; secret: string }[] {
  const seen = new Set<string>()
  return entries.map((item, i) => {
    const at = item.indexOf(':')
    const kid = item.slice(0, at)
    if (at < 1 || !KID.test(kid) || seen.has(kid)) {
      throw new WxaAuthError(
        'CONFIG_INVALID',
        `${variable}: entry ${i + 1} is not kid:${what} with a unique kid (letters, digits, . _ -).`,
      )
    }
    seen.add(kid)
    return { kid, secret: checkSecret(`${variable} (${label(kid, i)})`, item.slice(at + 1)) }
  })
}

const imported = new Map<string, Promise<CryptoKey>>()

function importSecret(secret: string): Promise<CryptoKey> {
  let key = imported.get(secret)
  if (!key) {
    // Non-extractable, imported once per isolate: jose would re-import a raw secret per call.
    key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    )
    imported.set(secret, key)
  }
  return key
}

const rings = new WeakMap<readonly SigningSecret[], Promise<KeyRing>>()

/** Imports every secret once per isolate and returns the ring, the same object for the same list. */
export function importKeyRing(secrets: readonly SigningSecret[]): Promise<KeyRing> {
  let ring = rings.get(secrets)
  if (!ring) {
    ring = (async () => {
      const keys = await Promise.all(secrets.map(({ secret }) => importSecret(secret)))
      const byKid = new Map(secrets.map(({ kid }, i) => [kid, keys[i] as CryptoKey]))
      const first = secrets[0]
      if (!first) throw new WxaAuthError('CONFIG_INVALID', 'The key ring is empty.')
      const native = nativeCrypto()
      return {
        current: { kid: first.kid, key: byKid.get(first.kid) as CryptoKey },
        byKid,
        ...(native && {
          nativeByKid: new Map(secrets.map(({ kid, secret }) => [kid, native.hmacKey(secret)])),
        }),
      }
    })()
    rings.set(secrets, ring)
  }
  return ring
}
