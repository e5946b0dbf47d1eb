import { base64url } from '../util/base64url'
import { BoundedMap } from '../util/bounded-map'
import { nativeCrypto } from '../util/native-crypto'

const HASHED_SESSION_IDS = 10_000 // per isolate
const hashed = new BoundedMap<string, string>(HASHED_SESSION_IDS)

/**
 * KV and the session objects hold only this hash of a session id, so read
 * access to them yields no live ids. Remembered per isolate: the same sid
 * always hashes the same, and a WebCrypto call costs a visible share of a
 * cached request. The runtime's synchronous SHA-256 (Node) costs a few
 * microseconds where WebCrypto's costs about thirty.
 */
export async function hashSessionId(sid: string): Promise<string> {
  const hit = hashed.get(sid)
  if (hit) return hit
  const native = nativeCrypto()
  const id = native
    ? native.sha256(sid)
    : base64url(
        new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(sid))),
      )
  hashed.set(sid, id)
  return id
}

/** A fresh session id: 256 random bits, base64url. */
export function newSessionId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)))
}
