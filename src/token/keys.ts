import { WxaAuthError } from '../errors'

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
}

const KID = /^[A-Za-z0-9._-]{1,64}$/

/**
 * Parses the key ring from the environment. `JWT_SECRETS` is a
 * whitespace-separated list of `kid:secret`, newest first (the first signs);
 * `JWT_SECRET` alone is a one-key ring with kid `main`.
 *
 * @throws WxaAuthError `CONFIG_INVALID` naming the variable at fault
 */
export function parseSecrets(env: { JWT_SECRET?: string; JWT_SECRETS?: string }): SigningSecret[] {
  const list = env.JWT_SECRETS?.trim()
    ? env.JWT_SECRETS.trim()
        .split(/\s+/)
        .map((item) => {
          const at = item.indexOf(':')
          return { kid: item.slice(0, at), secret: item.slice(at + 1) }
        })
    : env.JWT_SECRET
      ? [{ kid: 'main', secret: env.JWT_SECRET }]
      : []
  const name = env.JWT_SECRETS?.trim() ? 'JWT_SECRETS' : 'JWT_SECRET'
  if (list.length === 0) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'JWT_SECRET is not set. Set it with `wrangler secret put JWT_SECRET`.',
    )
  }
  const seen = new Set<string>()
  for (const { kid, secret } of list) {
    if (!KID.test(kid) || seen.has(kid)) {
      throw new WxaAuthError(
        'CONFIG_INVALID',
        `${name}: each entry needs a unique kid (kid:secret).`,
      )
    }
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new WxaAuthError(
        'CONFIG_INVALID',
        `${name}: the secret of kid "${kid}" is shorter than ${MIN_SECRET_LENGTH} characters.`,
      )
    }
    seen.add(kid)
  }
  return list
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
      return { current: { kid: first.kid, key: byKid.get(first.kid) as CryptoKey }, byKid }
    })()
    rings.set(secrets, ring)
  }
  return ring
}
