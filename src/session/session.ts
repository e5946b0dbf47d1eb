import { WxaAuthError } from '../errors'
import { platformOf } from '../platforms/default'
import type { PlatformName } from '../platforms/index'
import type { TokenClaims } from '../token/jwt'
import type { SessionChange, SessionRecord } from './record'

/** Whose session a request presented, as its token says. */
export interface PresentedSession {
  /** The session id from the token. Secret: never show it. */
  sid: string
  /** sha256(sid): the public id, as in KV and the device list. */
  id: string
  uid: string
  /** The token's generation. */
  gen: number
  /** The token's verified claims. */
  claims?: TokenClaims
}

/**
 * The session a request's token named (live, or replaced): its user id and
 * public id.
 *
 * @throws WxaAuthError `AUTH_REQUIRED` when no token named one
 */
export function namedSession(session: Session): PresentedSession {
  const { presented } = session
  if (!presented) throw new WxaAuthError('AUTH_REQUIRED')
  return presented
}

/** JSON text of a session value; `undefined` is stored as null. */
const json = (value: unknown) => JSON.stringify(value) ?? 'null'

/**
 * The session of one request, on `c.var.session`. Handlers read and change
 * its data; after the handler the middleware sends what changed (keys set,
 * keys deleted) to the user's session object, which applies it to the
 * session as it is then. An anonymous request gets an empty session that is
 * never written.
 */
export class Session {
  /** The session id from the token; null when anonymous. Secret: never show it. */
  readonly sid: string | null
  /** The public id: sha256 of `sid`, as in the device list and the stores; null when anonymous. */
  readonly id: string | null
  /** The token's generation; null when anonymous. @internal */
  readonly gen: number | null
  /** Whose session the token named, as it said; null when anonymous. @internal */
  readonly presented: PresentedSession | null
  readonly #uid: string | null
  readonly #record: SessionRecord | null
  #data: Record<string, unknown> | null = null
  #ended = false

  constructor(presented: PresentedSession | null = null, record: SessionRecord | null = null) {
    this.sid = presented?.sid ?? null
    this.id = presented?.id ?? null
    this.gen = presented?.gen ?? null
    this.presented = presented
    this.#uid = presented?.uid ?? null
    this.#record = record
  }

  /** Whether this request is authenticated and the session is live. */
  get active(): boolean {
    return this.#record !== null && !this.#ended
  }
  get userId(): string | null {
    return this.#uid
  }
  /** The mini program the session belongs to. */
  get appId(): string | null {
    return this.#record?.appId ?? null
  }
  /** Its platform (`wechat`, …). */
  get platform(): PlatformName | null {
    return this.#record ? platformOf(this.#record.platform) : null
  }
  get openid(): string | null {
    return this.#record?.openid ?? null
  }
  get unionid(): string | null {
    return this.#record?.unionid ?? null
  }
  /** Unix seconds, or null when anonymous. */
  get expiresAt(): number | null {
    return this.#record?.expiresAt ?? null
  }

  /** The data, copied from the record on first use. */
  #own(): Record<string, unknown> {
    this.#data ??= this.#record ? structuredClone(this.#record.data) : {}
    return this.#data
  }

  get<T = unknown>(key: string): T | undefined {
    return Object.hasOwn(this.#own(), key) ? (this.#own()[key] as T) : undefined
  }
  /** Sets `key` to a JSON-serialisable value. */
  set(key: string, value: unknown): void {
    // An own property even for `__proto__`: session data is client-influenced.
    Object.defineProperty(this.#own(), key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  delete(key: string): void {
    delete this.#own()[key]
  }
  /** A copy of all data. */
  all(): Record<string, unknown> {
    return structuredClone(this.#data ?? this.#record?.data ?? {})
  }

  /** Marks the session as ended (logout): nothing more is written. */
  end(): void {
    this.#ended = true
  }

  /**
   * What the handlers changed, key by key (a value changed in place counts
   * too), or null when nothing did. @internal
   */
  change(): SessionChange | null {
    if (!this.#record || this.#ended || this.#data === null) return null
    const before = this.#record.data
    const change: SessionChange = { set: [], delete: [] }
    for (const [key, value] of Object.entries(this.#data)) {
      if (!Object.hasOwn(before, key) || json(value) !== json(before[key])) {
        change.set.push([key, JSON.parse(json(value))])
      }
    }
    for (const key of Object.keys(before)) {
      if (!Object.hasOwn(this.#data, key)) change.delete.push(key)
    }
    return change.set.length || change.delete.length ? change : null
  }
}
