import { type Logger, WxaAuthError } from '../../errors'
import type { SessionAuthority } from '../../session/authority'
import { deleteIdentities } from '../../session/identities'
import { rules, type StoredSession } from '../../session/rules'
import { transactionalAuthority } from '../../session/transactional'
import type { ObjectStore } from '../../storage/objects'
import type { SealedKv } from '../../storage/sealed-kv'
import { userKeys } from './keys'
import { type RedisOutbox, redisOutbox } from './outbox'
import { isRedirect, type RedisConnection } from './redis'
import { redisTransact } from './transact'

export interface RedisAuthorityOptions {
  connection: RedisConnection
  /** Of every key. @default 'wxa:' */
  prefix: string
  /** Where identities live, so that forgetting a user deletes them. */
  sealed: SealedKv
  /** Where avatars live, so that a dropped one is deleted. */
  objects: ObjectStore | undefined
  log: Logger
  /** WATCH conflicts before `STORAGE_UNAVAILABLE`. @default 12 */
  maxAttempts?: number
  /** @internal tests sweep sooner */
  sweep?: { intervalMs?: number; ageMs?: number }
}

/**
 * The session authority in Redis: the rules of `rules.ts` (through
 * `transactionalAuthority`) over each user's keys, read and written back
 * under WATCH/MULTI/EXEC (see {@link redisTransact}). Avatars it lets go of
 * go to its outbox in the same transaction and are deleted after it, by this
 * process or, if it dies first, by any other (see {@link redisOutbox}).
 */
export function redisAuthority(
  options: RedisAuthorityOptions,
): SessionAuthority & { outbox: RedisOutbox } {
  const { connection, prefix, sealed, objects, log, maxAttempts, sweep = {} } = options
  const outbox = redisOutbox({
    connection,
    prefix,
    sealed,
    objects,
    log,
    ...(sweep.intervalMs !== undefined ? { sweepIntervalMs: sweep.intervalMs } : {}),
    ...(sweep.ageMs !== undefined ? { sweepAgeMs: sweep.ageMs } : {}),
  })
  const transact = redisTransact({
    connection,
    prefix,
    log,
    drain: outbox.drain,
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
  })
  // Before the step that ends the sessions: if this fails, nothing has ended yet.
  // What a step lets go of goes to the outbox in its own transaction, drained after it by `transact`.
  const authority = transactionalAuthority(transact, (uid, keys) =>
    deleteIdentities(sealed, uid, keys),
  )

  /**
   * A session's read (every authenticated request) needs its own row only:
   * one HGET, and an EXISTS of the outbox (a read that finds it full drains
   * it), pipelined; not the MULTI of every key of the user that a step reads,
   * with every session row parsed. Under `REDIS_WAIT_REPLICAS`, and while the
   * user's slot moves, the step's read, which fences and waits.
   */
  async function read(uid: string, id: string, now: number) {
    if (connection.waits) return authority.read(uid, id, now)
    const keys = userKeys(prefix, uid)
    let row: unknown
    let owed: unknown
    try {
      ;[row, owed] = await Promise.all([
        connection.send(keys.sessions, ['HGET', keys.sessions, id]),
        connection.send(keys.sessions, ['EXISTS', keys.outbox]),
      ])
    } catch (cause) {
      if (isRedirect(cause)) return authority.read(uid, id, now)
      throw new WxaAuthError('STORAGE_UNAVAILABLE', undefined, {
        cause: new Error('Redis read failed', { cause }),
        retryAfter: 1,
      })
    }
    if (Number(owed) > 0) {
      outbox.drain(uid).catch((err: unknown) => {
        log.error(
          `wxa-auth: the outbox's deletes failed; retried later: ${(err as Error)?.message ?? err}`,
        )
      })
    }
    const stored = typeof row === 'string' ? (JSON.parse(row) as StoredSession) : undefined
    return rules.readRow(stored, now)
  }

  return { ...authority, read, outbox }
}
