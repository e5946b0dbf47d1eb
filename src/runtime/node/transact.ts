import { type Logger, WxaAuthError } from '../../errors'
import type { ProfileRecord } from '../../session/profile'
import type { Ban } from '../../session/record'
import type { StoredSession } from '../../session/rules'
import {
  runStep,
  type StepChanges,
  type Transact,
  type UserState,
} from '../../session/transactional'
import { outboxIndexKey, type UserKeys, userKeys } from './keys'
import { isRedirect, type RedisConnection, type RedisLink } from './redis'

export const DEFAULT_MAX_ATTEMPTS = 12 // WATCH conflicts before a 503
const BACKOFF_MAX_MS = 40 // the most one retry waits, jittered
const MAX_BATCH = 64 // changes to one user committed together
const REDIRECT_WAIT_MS = 2000 // how long a request waits for its slot to finish moving, then a 503
const REDIRECT_BACKOFF_MS = 25 // between tries while it moves
/** Seconds the identity index outlives its identities: their TTLs are rounded up to whole seconds. */
export const INDEX_MARGIN = 60

interface Pending {
  step: (state: UserState) => unknown
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
}

/** A user's state as Redis had it, and what a step changed of it. */
interface Loaded {
  rows: Map<string, StoredSession>
  identities: Set<string>
  profileText: string | null
  /** The sealed session_keys, by slot: fields `key:<slot>` of the sessions hash. */
  keys: Map<string, string>
  /** Whether the outbox holds deletes (drained after this call). */
  outboxed: boolean
  banText: string | null
}

/** The field of a session_key in the sessions hash; a session id never holds `:`. */
const KEY_FIELD = 'key:'

const READS = (keys: UserKeys) => [
  ['HGETALL', keys.sessions],
  ['SMEMBERS', keys.identities],
  ['GET', keys.profile],
  ['EXISTS', keys.outbox],
  ['GET', keys.ban],
]

/** RESP2 answers HGETALL with a flat array, RESP3 with a map: both read. */
export function hashEntries(reply: unknown): [string, string][] {
  if (Array.isArray(reply)) {
    const pairs: [string, string][] = []
    for (let i = 0; i + 1 < reply.length; i += 2)
      pairs.push([String(reply[i]), String(reply[i + 1])])
    return pairs
  }
  if (reply instanceof Map) return [...reply].map(([k, v]) => [String(k), String(v)])
  if (reply && typeof reply === 'object') {
    return Object.entries(reply).map(([k, v]) => [k, String(v)])
  }
  return []
}

function load(replies: unknown[]): Loaded {
  const [rows, identities, profile, outboxed, ban] = replies
  const fields = hashEntries(rows)
  return {
    rows: new Map(
      fields
        .filter(([id]) => !id.startsWith(KEY_FIELD))
        .map(([id, json]) => [id, JSON.parse(json) as StoredSession] as const),
    ),
    keys: new Map(
      fields
        .filter(([id]) => id.startsWith(KEY_FIELD))
        .map(([field, sealed]) => [field.slice(KEY_FIELD.length), sealed] as const),
    ),
    identities: new Set(Array.isArray(identities) ? identities.map(String) : []),
    profileText: typeof profile === 'string' ? profile : null,
    outboxed: Number(outboxed) > 0,
    banText: typeof ban === 'string' ? ban : null,
  }
}

/** Runs `step` on `loaded` (see {@link runStep}). */
function run<T>(loaded: Loaded, step: (state: UserState) => T) {
  const { rows } = loaded
  return runStep(
    {
      table: {
        get: (id) => rows.get(id),
        live: (now) =>
          [...rows.values()].filter((s) => s.record !== null && s.record.expiresAt > now),
      },
      identities: loaded.identities,
      profile: loaded.profileText ? (JSON.parse(loaded.profileText) as ProfileRecord) : null,
      keys: loaded.keys,
      ban: loaded.banText ? (JSON.parse(loaded.banText) as Ban) : null,
    },
    step,
  )
}

/**
 * The commands that write a step's changes back: the rows it put (rows past
 * their expiry go, tombstones too: nothing can bring them back), the key
 * expiries (the sessions live as long as the last row, tombstones
 * included; the identity index as long as the identities it lists), the
 * identity index, the profile (no expiry: it is user data,
 * not session data), and the avatars the step let go of, in the outbox in the same
 * transaction.
 */
function writes(keys: UserKeys, loaded: Loaded, changes: StepChanges) {
  const nowMs = Date.now()
  const commands: string[][] = []
  const rows = new Map([...loaded.rows, ...changes.put])
  const sessionKeys = changes.keys ?? loaded.keys
  const identities = changes.identities ?? loaded.identities
  let last = 0
  for (const [id, row] of rows) {
    const expired = row.expiresAt * 1000 <= nowMs
    if (expired) {
      if (loaded.rows.has(id)) commands.push(['HDEL', keys.sessions, id])
      continue
    }
    last = Math.max(last, row.expiresAt * 1000)
    if (changes.put.has(id)) commands.push(['HSET', keys.sessions, id, JSON.stringify(row)])
  }
  // The session_keys live in the sessions hash, as long as the user's sessions do.
  for (const [slot, sealed] of sessionKeys) {
    if (loaded.keys.get(slot) !== sealed) {
      commands.push(['HSET', keys.sessions, `${KEY_FIELD}${slot}`, sealed])
    }
  }
  for (const slot of loaded.keys.keys()) {
    if (!sessionKeys.has(slot)) commands.push(['HDEL', keys.sessions, `${KEY_FIELD}${slot}`])
  }
  const added = [...identities].filter((key) => !loaded.identities.has(key))
  const removed = [...loaded.identities].filter((key) => !identities.has(key))
  if (added.length) commands.push(['SADD', keys.identities, ...added])
  if (removed.length) commands.push(['SREM', keys.identities, ...removed])
  if (last > 0) commands.push(['PEXPIREAT', keys.sessions, String(last)])
  else commands.push(['DEL', keys.sessions])
  // The identity index outlives every identity it lists (they outlive the
  // sessions): a login keeps it SESSION_MAX_AGE + a day, as long as the
  // identity it wrote. Nothing else shortens it.
  if (changes.identitiesUntil && identities.size > 0) {
    const until = (changes.identitiesUntil + INDEX_MARGIN) * 1000
    commands.push(['PEXPIREAT', keys.identities, String(until)])
  }
  const text =
    changes.profile === undefined
      ? loaded.profileText
      : changes.profile
        ? JSON.stringify(changes.profile)
        : null
  if (text !== loaded.profileText) {
    commands.push(text === null ? ['DEL', keys.profile] : ['SET', keys.profile, text])
  }
  if (changes.ban === null) commands.push(['DEL', keys.ban])
  else if (changes.ban) {
    commands.push(['SET', keys.ban, JSON.stringify(changes.ban)])
    // Past its `until` a ban no longer holds: the key may go then.
    if (changes.ban.until !== undefined) {
      commands.push(['PEXPIREAT', keys.ban, String((changes.ban.until + INDEX_MARGIN) * 1000)])
    }
  }
  const { outbox } = changes
  if (outbox.length) commands.push(['SADD', keys.outbox, ...outbox])
  return { commands, outboxed: outbox.length > 0 }
}

const unavailable = (what: string, cause: unknown) =>
  new WxaAuthError('STORAGE_UNAVAILABLE', undefined, {
    cause: new Error(`Redis ${what} failed`, { cause }),
    retryAfter: 1,
  })

/**
 * An answer read from Redis may show a change the replicas do not have yet
 * (made by a request whose WAIT failed: a refresh answered again within its
 * grace, say). With `REDIS_WAIT_REPLICAS`, a write of the user's slot (a key
 * that lives a millisecond) and WAIT come first: replication is one ordered
 * stream, so the replicas then hold everything the answer rests on.
 */
async function fenced(link: RedisLink, keys: UserKeys) {
  try {
    await link.send(['SET', keys.fence, '1', 'PX', '1'])
  } catch (cause) {
    throw unavailable('read', cause)
  }
  await link.replicated()
}

/** node-redis's `WatchError` (its `name` is plain `Error`): a watched key changed, or the connection did. */
export const isWatchError = (err: unknown) =>
  err instanceof Error && (err.name === 'WatchError' || err.constructor.name === 'WatchError')

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface RedisTransactOptions {
  connection: RedisConnection
  prefix: string
  log: Logger
  /** Drains the user's outbox; runs after a commit that adds to it, and after a read that finds it full. */
  drain: (uid: string, score?: number) => Promise<void>
  /** WATCH conflicts before `STORAGE_UNAVAILABLE`. @default 12 */
  maxAttempts?: number
}

/**
 * The {@link Transact} of Redis: optimistic concurrency. A step runs first on
 * a snapshot (one MULTI of reads); when it changed nothing (a read) that is
 * the answer. Otherwise, on a connection of its own: WATCH the user's keys,
 * read them, run the step again, and write back in MULTI/EXEC; a conflict
 * (another process wrote meanwhile) retries, a bounded number of times, then
 * `STORAGE_UNAVAILABLE`. Changes to one user in this process queue behind
 * the one in flight and then commit together (fewer conflicts, fewer round
 * trips); across processes WATCH alone keeps them apart.
 * A failure after EXEC was sent is `STORAGE_OUTCOME_UNKNOWN`.
 */
export function redisTransact({
  connection,
  prefix,
  log,
  drain,
  maxAttempts = DEFAULT_MAX_ATTEMPTS,
}: RedisTransactOptions): Transact {
  /** Drains the user's outbox; a failure is logged and left to the next call or a sweep. */
  const settle = (uid: string, score?: number) =>
    drain(uid, score).catch((err: unknown) => {
      log.error(
        `wxa-auth: the outbox's deletes failed; retried later: ${(err as Error)?.message ?? err}`,
      )
    })
  const later = (uid: string, score?: number) => void settle(uid, score)

  async function snapshot(keys: UserKeys): Promise<Loaded> {
    const movingUntil = Date.now() + REDIRECT_WAIT_MS
    for (;;) {
      try {
        return load(await connection.exec(keys.sessions, READS(keys)))
      } catch (cause) {
        // The slot is moving (ASK, TRYAGAIN during a resharding): a moment later it is in one place.
        if (!isRedirect(cause) || Date.now() >= movingUntil) throw unavailable('read', cause)
        await sleep(REDIRECT_BACKOFF_MS)
      }
    }
  }

  async function attempt<T>(
    client: RedisLink,
    uid: string,
    keys: UserKeys,
    step: (state: UserState) => T,
  ): Promise<
    { done: true; value: T; outboxed?: number | null } | { done: false; moved?: boolean }
  > {
    let loaded: Loaded
    try {
      const replies = await Promise.all([
        client.watch([keys.sessions, keys.identities, keys.profile, keys.ban]),
        ...READS(keys).map((args) => client.send(args)),
      ])
      loaded = load(replies.slice(1))
    } catch (cause) {
      await client.unwatch().catch(() => {})
      if (isRedirect(cause)) return { done: false, moved: true }
      throw unavailable('read', cause)
    }
    const ran = run(loaded, step)
    if (!ran.changes) {
      await client.unwatch().catch(() => {})
      if (connection.waits) await fenced(client, keys)
      return { done: true, value: ran.result }
    }
    const { commands, outboxed } = writes(keys, loaded, ran.changes)
    const score = Date.now()
    if (outboxed) {
      // Before the commit: the sweeper finds the user even if this process dies right after it.
      try {
        // The index is a key of its own slot: sent where it lives, not on this connection.
        await connection.send(outboxIndexKey(prefix), [
          'ZADD',
          outboxIndexKey(prefix),
          String(score),
          uid,
        ])
      } catch (cause) {
        await client.unwatch().catch(() => {})
        throw unavailable('write', cause)
      }
    }
    try {
      await client.exec(commands)
    } catch (err) {
      // A conflict, or the slot moved (MOVED/ASK aborts the whole EXEC): nothing was written.
      if (isWatchError(err)) return { done: false }
      if (isRedirect(err)) return { done: false, moved: true }
      throw new WxaAuthError('STORAGE_OUTCOME_UNKNOWN', undefined, {
        cause: new Error('Redis EXEC failed', { cause: err }),
        retryAfter: 1,
      })
    }
    // Committed: confirmed by the replicas REDIS_WAIT_REPLICAS asks for, or a 503.
    await client.replicated()
    // Drained after this connection is released; before the answer when this step filled it.
    return {
      done: true,
      value: ran.result,
      outboxed: outboxed ? score : loaded.outboxed ? null : undefined,
    }
  }

  async function write<T>(uid: string, keys: UserKeys, step: (state: UserState) => T): Promise<T> {
    const movingUntil = Date.now() + REDIRECT_WAIT_MS
    for (let conflicts = 0; conflicts < maxAttempts; ) {
      const outcome = await connection
        .isolated(keys.sessions, (client) => attempt(client, uid, keys, step))
        .catch((err: unknown) => {
          throw err instanceof WxaAuthError ? err : unavailable('transaction', err)
        })
      if (outcome.done) {
        if (typeof outcome.outboxed === 'number') await settle(uid, outcome.outboxed)
        else if (outcome.outboxed === null) later(uid)
        return outcome.value
      }
      if (outcome.moved) {
        // A slot being moved is waited for (a while), not counted as a conflict. The connection
        // of a WATCH does not follow MOVED: a routed command does, and refreshes the map of slots.
        if (Date.now() >= movingUntil) {
          throw unavailable(
            'transaction',
            new Error(`the user's slot kept moving for ${REDIRECT_WAIT_MS} ms`),
          )
        }
        await connection.send(keys.sessions, ['EXISTS', keys.sessions]).catch(() => {})
        await sleep(REDIRECT_BACKOFF_MS)
      } else await sleep(Math.random() * Math.min(BACKOFF_MAX_MS, 2 ** ++conflicts))
    }
    throw new WxaAuthError('STORAGE_UNAVAILABLE', undefined, {
      cause: new Error(`Redis: ${maxAttempts} WATCH conflicts in a row for one user`),
      retryAfter: 1,
    })
  }

  // Changes to one user in this process wait for the one in flight, then go
  // together: one WATCH/MULTI/EXEC applies them in the order they came (a
  // group commit), as if run one after the other.
  const waiting = new Map<string, Pending[]>()
  const busy = new Set<string>()

  async function commitAll(uid: string, keys: UserKeys) {
    busy.add(uid)
    try {
      for (;;) {
        const batch = waiting.get(uid)?.splice(0, MAX_BATCH)
        if (!batch?.length) break
        try {
          const results = await write(uid, keys, (state) => batch.map(({ step }) => step(state)))
          for (const [i, { resolve }] of batch.entries()) resolve(results[i])
        } catch (err) {
          for (const { reject } of batch) reject(err)
        }
      }
    } finally {
      waiting.delete(uid)
      busy.delete(uid)
    }
  }

  return async function transact<T>(uid: string, step: (state: UserState) => T): Promise<T> {
    const keys = userKeys(prefix, uid)
    const loaded = await snapshot(keys)
    const ran = run(loaded, step)
    if (!ran.changes) {
      if (loaded.outboxed) later(uid)
      if (connection.waits) await connection.isolated(keys.sessions, (link) => fenced(link, keys))
      return ran.result
    }
    return new Promise<T>((resolve, reject) => {
      const queue = waiting.get(uid) ?? []
      queue.push({ step, resolve: resolve as (value: unknown) => void, reject })
      waiting.set(uid, queue)
      if (!busy.has(uid)) void commitAll(uid, keys)
    })
  }
}
