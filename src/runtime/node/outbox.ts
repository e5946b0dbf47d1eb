import type { Logger } from '../../errors'
import { deleteIdentities } from '../../session/identities'
import type { ObjectStore } from '../../storage/objects'
import type { SealedKv } from '../../storage/sealed-kv'
import { outboxIndexKey, userKeys } from './keys'
import type { RedisConnection } from './redis'
import { isWatchError } from './transact'

export const DEFAULT_SWEEP_INTERVAL_MS = 30_000 // how often a process looks for outboxes to drain
export const DEFAULT_SWEEP_AGE_MS = 60_000 // an entry younger than this is its writer's to drain
const SWEEP_BATCH = 100 // users per sweep

export interface RedisOutbox {
  /**
   * Deletes what the user's authority owes (`avatar:<key>` objects, and any
   * identity key), each removed from the outbox once done; then the user
   * leaves the index, unless another entry arrived meanwhile. `score` is the
   * index entry this drain may remove (default: one past the sweep age).
   */
  drain(uid: string, score?: number): Promise<void>
  /** Drains the users whose index entry is older than the sweep age; returns how many. */
  sweep(): Promise<number>
  /** Sweeps every interval, in the background, until stopped. */
  start(): () => void
}

/**
 * The outbox in Redis: a step that lets go of an avatar adds it to the
 * user's outbox (a set) in its own MULTI/EXEC, and the user to an index (a sorted
 * set, by time) before that commit. After the commit the writer drains the
 * set; if it dies first, the next call for the user, or any process's
 * sweeper, does. Nothing depends on one process's memory.
 */
export function redisOutbox({
  connection,
  prefix,
  sealed,
  objects,
  log,
  sweepIntervalMs = DEFAULT_SWEEP_INTERVAL_MS,
  sweepAgeMs = DEFAULT_SWEEP_AGE_MS,
}: {
  connection: RedisConnection
  prefix: string
  sealed: SealedKv
  objects: ObjectStore | undefined
  log: Logger
  sweepIntervalMs?: number
  sweepAgeMs?: number
}): RedisOutbox {
  const index = outboxIndexKey(prefix)
  const running = new Map<string, Promise<void>>()

  async function leaveIndex(uid: string, score: number | undefined) {
    // WATCH the index: an entry written meanwhile (a new delete in the outbox) stays.
    await connection.isolated(index, async (client) => {
      await client.watch([index])
      const now = await client.send(['ZSCORE', index, uid])
      // Without a score of its own, only an entry past the sweep age: a younger one is its writer's.
      const mine =
        now !== null &&
        (score === undefined ? Number(now) <= Date.now() - sweepAgeMs : Number(now) === score)
      if (!mine) {
        await client.unwatch()
        return
      }
      await client.exec([['ZREM', index, uid]]).catch((err: unknown) => {
        if (!isWatchError(err)) throw err
      })
    })
  }

  async function drainNow(uid: string, score: number | undefined) {
    const { outbox } = userKeys(prefix, uid)
    const send = (args: string[]) => connection.send(outbox, args)
    const keys = (await send(['SMEMBERS', outbox])) as string[]
    for (const key of keys) {
      if (key.startsWith('avatar:')) {
        if (objects) await objects.delete(key.slice('avatar:'.length))
        else
          log.warn(
            'wxa-auth: an avatar delete in the outbox, but no object store (AVATARS_DIR); dropped',
          )
      } else {
        await deleteIdentities(sealed, uid, [key])
      }
      await send(['SREM', outbox, key])
    }
    if (Number(await send(['SCARD', outbox])) === 0) await leaveIndex(uid, score)
  }

  const drain = (uid: string, score?: number) => {
    let pending = running.get(uid)
    if (!pending) {
      pending = drainNow(uid, score).finally(() => running.delete(uid))
      running.set(uid, pending)
    }
    return pending
  }

  async function sweep(): Promise<number> {
    const reply = (await connection.send(index, [
      'ZRANGEBYSCORE',
      index,
      '-inf',
      String(Date.now() - sweepAgeMs),
      'WITHSCORES',
      'LIMIT',
      '0',
      String(SWEEP_BATCH),
    ])) as unknown[]
    // node-redis answers pairs ([member, score]) or, for some versions, a flat list.
    const due: [string, number][] = Array.isArray(reply[0])
      ? (reply as [string, number][]).map(([uid, score]) => [String(uid), Number(score)])
      : reply.flatMap((uid, i) => (i % 2 === 0 ? [[String(uid), Number(reply[i + 1])]] : []))
    let drained = 0
    for (const [uid, score] of due) {
      try {
        await drain(uid, score)
        drained++
      } catch (err) {
        log.error(
          `wxa-auth: the outbox's deletes failed; retried later: ${(err as Error)?.message ?? err}`,
        )
      }
    }
    return drained
  }

  return {
    drain,
    sweep,
    start() {
      const timer = setInterval(() => {
        sweep().catch((err: unknown) => {
          log.error(`wxa-auth: the outbox sweep failed: ${(err as Error)?.message ?? err}`)
        })
      }, sweepIntervalMs)
      timer.unref?.()
      return () => clearInterval(timer)
    },
  }
}
