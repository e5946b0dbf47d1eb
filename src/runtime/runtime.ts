import type { Context, Env } from 'hono'
import type { Variables } from '../env'
import type { AuditLog, AuditSettings, Directory } from '../operators/ports'
import type { ClaimStore, SessionAuthority } from '../session/authority'
import type { KvStore } from '../storage/kv'
import type { ObjectStore } from '../storage/objects'
import type { SealedKv } from '../storage/sealed-kv'

/** Counts requests by key: true while under the limit. */
export interface RateLimiter {
  limit(key: string): Promise<boolean>
}

/** What a runtime gives wxa-auth: its variables and its adapters of the core's ports. */
export interface RuntimeParts {
  /**
   * Stays the same object while the parts do (the Worker's `env`, one per
   * isolate): the configuration built from them is kept by it.
   */
  key: object
  vars: Variables
  /** Where sealed records live (identities, the access token, the session replica). */
  kv: KvStore
  /**
   * The only writer of session state (and of the profile), given the sealed
   * records and the object store, so that it can delete the identities and
   * avatars it lets go of.
   */
  authority(deps: { sealed: SealedKv; objects: ObjectStore | undefined }): SessionAuthority
  /** Where avatars live; absent: avatars are not offered. */
  objects?: ObjectStore | undefined
  /**
   * Users by id, openid, unionid and phone hash (D1 on Workers, Redis on
   * Node). Absent: no directory, and operators cannot search.
   */
  directory?: Directory | undefined
  /**
   * The audit log, made once with the retention the configuration read
   * (`AUDIT_RETENTION_DAYS`). Absent: security events are not recorded.
   */
  audit?: ((settings: AuditSettings) => AuditLog) | undefined
  /** Atomic claims (WeChat push queries). */
  claims: ClaimStore
  rateLimits: { login?: RateLimiter | undefined; user?: RateLimiter | undefined }
  /**
   * The client's address for the login limit, as this runtime knows it (the
   * socket, or a header of a proxy it trusts); undefined: unknown. Absent:
   * `CF-Connecting-IP`, as Cloudflare sets it.
   */
  clientAddress?: ((c: Context) => string | undefined) | undefined
  /**
   * Whether sessions have a read replica in `kv` (the Durable Object writes
   * one to Workers KV): then `SESSION_CONSISTENCY=edge` reads it. Without one,
   * every read asks the authority.
   */
  replica: boolean
  /**
   * Whether the storage answers now, for `/readyz` (Node: a PING to Redis,
   * and its durability settings). Absent: nothing to ask.
   */
  health?: (() => Promise<StorageHealth>) | undefined
  /**
   * How a variable is set on this runtime, for a `CONFIG_INVALID` message
   * naming it ("Set it with `wrangler secret put X`", "Set X in the
   * environment…"): the messages are written once, the runtime says how.
   */
  howToSet?: ((name: string) => string) | undefined
}

/** What `/readyz` says of the storage: up or not, the variable at fault, its settings. */
export interface StorageHealth {
  ok: boolean
  /** The variable to look at when not ok (`REDIS_URL`). */
  failing?: string
  /** Redis's durability settings as read at start (`unknown` where refused). */
  redis?: Record<string, string>
}

/**
 * A runtime: where the core finds its ports for a request.
 * `cloudflare()` (`wxa-auth/cloudflare`) reads them from the Worker's bindings,
 * `node()` (`wxa-auth/node`) from a Redis client, `memoryRuntime()`
 * (`wxa-auth/testing`) keeps everything in memory.
 */
export interface WxaRuntime<E extends Env = Env> {
  parts(c: Context<E>): RuntimeParts
}
