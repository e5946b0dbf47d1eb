import { kidEntries } from '../token/keys'
import { base64url } from '../util/base64url'
import { timingSafeEqual } from '../util/timing-safe'

/** One operator key of `ADMIN_KEYS`: its id (in audit records) and the key itself (never logged). */
export interface AdminKey {
  kid: string
  key: string
}

/**
 * `ADMIN_KEYS`: comma-separated `kid:key`, each key a generated secret of at
 * least 32 characters (checked as every secret is). Unset or empty: no
 * operator API (the whole `/admin` tree answers 404). A message names the
 * entry's kid (or its position when it has none), never a key.
 *
 * @throws WxaAuthError `CONFIG_INVALID`
 */
export function parseAdminKeys(value: string | undefined): AdminKey[] {
  const entries = (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  return kidEntries('ADMIN_KEYS', entries, 'key', (kid) => `kid ${kid}`).map(({ kid, secret }) => ({
    kid,
    key: secret,
  }))
}

const encoder = new TextEncoder()
// Made on first use: a Worker may not draw random numbers at startup.
let macKey: Promise<CryptoKey> | undefined

/**
 * The HMAC-SHA256 of `value` under a random key of this process (isolate):
 * every digest has the same length, so comparing two takes the same time
 * whatever the key presented, and nothing outside learns the digests.
 */
async function digest(value: string): Promise<string> {
  macKey ??= crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]) as Promise<CryptoKey>
  const mac = await crypto.subtle.sign('HMAC', await macKey, encoder.encode(value))
  return base64url(new Uint8Array(mac))
}

/**
 * Whether two digests are equal, in time that depends only on their length
 * (always that of a SHA-256 digest here). @internal exported for its test
 */
export const digestsEqual = (a: string, b: string) => a.length === b.length && timingSafeEqual(a, b)

const digested = new WeakMap<readonly AdminKey[], Promise<{ kid: string; mac: string }[]>>()

/**
 * The kid of the key `presented` is, or undefined. Both sides are digested
 * (the configured keys once per list) and every configured key is compared,
 * so the time taken says neither which key nor how much of one matched.
 */
export async function adminKeyId(
  keys: readonly AdminKey[],
  presented: string,
): Promise<string | undefined> {
  let known = digested.get(keys)
  if (!known) {
    known = Promise.all(keys.map(async ({ kid, key }) => ({ kid, mac: await digest(key) })))
    digested.set(keys, known)
  }
  const mac = await digest(presented)
  let found: string | undefined
  for (const key of await known) {
    if (digestsEqual(key.mac, mac)) found = key.kid
  }
  return found
}
