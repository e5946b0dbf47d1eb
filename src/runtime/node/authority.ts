import type { Logger } from '../../errors'
import type { SessionAuthority } from '../../session/authority'
import { deleteIdentities } from '../../session/identities'
import { transactionalAuthority } from '../../session/transactional'
import type { ObjectStore } from '../../storage/objects'
import type { SealedKv } from '../../storage/sealed-kv'
import { type RedisOutbox, redisOutbox } from './outbox'
import type { RedisConnection } from './redis'
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
  return { ...authority, outbox }
}
