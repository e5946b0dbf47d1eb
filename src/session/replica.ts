import { sessionRecordKey } from '../storage/keys'
import type { SealedKv } from '../storage/sealed-kv'
import { BoundedMap } from '../util/bounded-map'
import type { SessionRecord } from './record'

const CACHED_SESSIONS = 10_000 // records per replica and isolate
const CACHED_SESSION_BYTES = 8 * 1024 * 1024 // UTF-16 code units of JSON per replica and isolate
const ENDED_SESSIONS = 10_000 // ids per replica and isolate

export interface SessionReplicaOptions {
  /**
   * Seconds a session record read in this isolate is reused without asking KV
   * again; 0 turns it off. See the README on revocation. @default 0
   */
  cacheSeconds?: number
}

/**
 * The edge's read path of sessions: an isolate cache, then the sealed KV
 * replica the user objects write. It never writes KV. It also remembers,
 * until their tokens expire, the sessions an authority said are over: an
 * ended session never comes back, so that answer is exact.
 */
export interface SessionReplica {
  /** The record in this isolate's cache or in KV; null when neither has it. */
  get(uid: string, id: string): Promise<SessionRecord | null>
  /** Caches what the authority answered. */
  remember(id: string, record: SessionRecord): void
  /** Forgets the cached record and notes the session as over until `until` (unix seconds). */
  ended(uid: string, id: string, until: number): void
  /** Forgets the cached record: the next read asks KV (and the authority on a miss). */
  forget(uid: string, id: string): void
  /** Whether this isolate knows the session is over. */
  isEnded(id: string, now: number): boolean
}

/** The KV replica of sessions, read through a per-isolate cache. */
export function sessionReplica(
  kv: SealedKv,
  { cacheSeconds = 0 }: SessionReplicaOptions = {},
): SessionReplica {
  const cached = new BoundedMap<string, { record: SessionRecord; until: number; size: number }>(
    CACHED_SESSIONS,
    { maxBytes: CACHED_SESSION_BYTES, sizeOf: (entry) => entry.size },
  )
  const over = new BoundedMap<string, number>(ENDED_SESSIONS)
  const keep = (key: string, record: SessionRecord, size: number) => {
    if (cacheSeconds > 0) cached.set(key, { record, size, until: Date.now() + cacheSeconds * 1000 })
  }

  return {
    async get(uid, id) {
      const key = sessionRecordKey(uid, id)
      const hit = cached.get(key)
      if (hit && hit.until > Date.now()) return hit.record
      const found = await kv.get<SessionRecord>(key)
      if (!found) return null
      const record = Object.freeze(found.value)
      keep(key, record, found.size)
      return record
    },
    remember(id, record) {
      keep(
        sessionRecordKey(record.uid, id),
        Object.freeze(record),
        JSON.stringify(record.data).length + 300,
      )
    },
    ended(uid, id, until) {
      cached.delete(sessionRecordKey(uid, id))
      over.set(id, until)
    },
    forget(uid, id) {
      cached.delete(sessionRecordKey(uid, id))
    },
    isEnded: (id, now) => (over.get(id) ?? 0) > now,
  }
}
