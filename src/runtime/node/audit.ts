import { decodeCursor, encodeCursor, pageLimit } from '../../operators/cursor'
import {
  AUDIT_TYPES,
  type AuditLog,
  type AuditRecord,
  type AuditSettings,
  type StoredAuditRecord,
} from '../../operators/ports'
import { DAY_MS, retention } from '../../operators/retention'
import { auditMatches } from '../memory/audit'
import { auditKeys } from './keys'
import type { RedisConnection } from './redis'

const SCAN_COUNT = 200 // entries per XRANGE while a filter skips some
const PURGE_USERS = 1_000 // user streams trimmed per purge at most; the rest wait for the next one

/** The UTC day of unix ms `at`: `yyyy-mm-dd`. */
const dayOf = (at: number) => new Date(at - (at % DAY_MS)).toISOString().slice(0, 10)
const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`)

type Entry = [id: string, fields: string[]]

/** An entry of a stream as a record: `r` holds it as JSON, `i` its id where it is not the entry's. */
function recordOf([id, fields]: Entry): StoredAuditRecord | null {
  let json: string | undefined
  let own: string | undefined
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'r') json = String(fields[i + 1])
    if (fields[i] === 'i') own = String(fields[i + 1])
  }
  if (json === undefined) return null
  return { id: own ?? id, ...(JSON.parse(json) as AuditRecord) }
}

/**
 * The audit log in Redis Streams, in keys that work on a cluster: each record
 * goes to the stream of its UTC day, of its type and day, and of its user,
 * each one key and one command (no command spans two slots). An entry's id
 * is the record's time (`<at>-*`, Redis 7; a later time where the stream is
 * already past it), so reading by time is `XRANGE` by id, in order. Records
 * past retention are never returned; a day's streams expire with their last
 * record, a user's stream is trimmed (`XTRIM MINID`), and `purge` (run by the
 * log itself at most once an hour per process) deletes them at once.
 *
 * @param prefix the key prefix of every wxa-auth key (`wxa:`)
 */
export function redisAudit(
  connection: RedisConnection,
  prefix: string,
  settings: AuditSettings,
): AuditLog {
  const keys = auditKeys(prefix)
  const kept = retention(settings)
  const retentionMs = settings.retentionDays * DAY_MS
  const send = (key: string, args: string[]) => connection.send(key, args)
  /** Days this process has put in `audit:days` (a purge takes a day out only once it is over). */
  const known = new Set<string>()

  /** XADD at `id`, else (the stream is past it, or Redis 6) wherever Redis puts it. */
  async function add(key: string, id: string, fields: string[]): Promise<string> {
    try {
      return String(await send(key, ['XADD', key, id, ...fields]))
    } catch (err) {
      if (!/ID|smaller|Invalid stream/i.test(String((err as Error)?.message))) throw err
      return String(await send(key, ['XADD', key, '*', ...fields]))
    }
  }

  async function appendOne(record: AuditRecord): Promise<void> {
    const day = dayOf(record.at)
    // Past retention already (a late write of an old event): nothing to keep.
    const dayTtl = dayStart(day) + DAY_MS + retentionMs - kept.now()
    if (dayTtl <= 0) return
    const json = JSON.stringify(record)
    const dayKey = keys.day(day)
    const id = await add(dayKey, `${record.at}-*`, ['r', json])
    const typeKey = keys.typeDay(record.type, day)
    const writes: Promise<unknown>[] = [
      send(dayKey, ['PEXPIRE', dayKey, String(dayTtl)]),
      known.has(day)
        ? Promise.resolve()
        : send(keys.days, ['ZADD', keys.days, String(dayStart(day)), day]).then(() =>
            known.add(day),
          ),
      add(typeKey, id, ['r', json, 'i', id]).then(() =>
        send(typeKey, ['PEXPIRE', typeKey, String(dayTtl)]),
      ),
    ]
    if (record.uid !== undefined) {
      const userKey = keys.user(record.uid)
      writes.push(
        add(userKey, id, ['r', json, 'i', id]).then(() =>
          send(userKey, ['PEXPIRE', userKey, String(retentionMs)]),
        ),
        send(keys.users, ['ZADD', keys.users, 'NX', String(record.at), record.uid]),
      )
    }
    await Promise.all(writes)
  }

  /** The streams a query reads, oldest first: the user's, or the days' (of its type) from `since`. */
  async function streams(
    filter: Parameters<AuditLog['query']>[0],
    since: number,
  ): Promise<{ name: string; key: string }[]> {
    if (filter.uid !== undefined) return [{ name: '', key: keys.user(filter.uid) }]
    const from = dayStart(dayOf(since))
    const to = filter.until === undefined ? '+inf' : String(filter.until)
    const days = (await send(keys.days, ['ZRANGE', keys.days, String(from), to, 'BYSCORE'])) as
      | string[]
      | null
    return (days ?? []).map(String).map((day) => ({
      name: day,
      key: filter.type === undefined ? keys.day(day) : keys.typeDay(filter.type, day),
    }))
  }

  const log: AuditLog = {
    async append(records) {
      for (const record of records) await appendOne(record)
      // Written: a purge that fails now is tried again an hour on, and loses no record.
      if (kept.due()) await log.purge(kept.cutoff()).catch(() => {})
    },
    async query(filter, page) {
      const limit = pageLimit(page.limit)
      const position = decodeCursor(page.cursor, ['string', 'string'] as const)
      const cutoff = kept.cutoff()
      const since = Math.max(cutoff, filter.since ?? 0)
      const end = filter.until === undefined ? '+' : String(filter.until - 1)
      const found: { record: StoredAuditRecord; at: [string, string] }[] = []
      outer: for (const { name, key } of await streams(filter, since)) {
        // Days before the cursor's were read (names of days sort as the days do).
        if (position && name < position[0]) continue
        let start = position && name === position[0] ? `(${position[1]}` : String(since)
        for (;;) {
          const entries = (await send(key, [
            'XRANGE',
            key,
            start,
            end,
            'COUNT',
            String(SCAN_COUNT),
          ])) as Entry[] | null
          if (!entries?.length) break
          for (const entry of entries) {
            const record = recordOf(entry)
            if (record && auditMatches(record, filter, cutoff)) {
              found.push({ record, at: [name, entry[0]] })
              if (found.length > limit) break outer
            }
          }
          if (entries.length < SCAN_COUNT) break
          start = `(${(entries.at(-1) as Entry)[0]}`
        }
      }
      const more = found.length > limit
      const shown = found.slice(0, limit)
      const last = shown.at(-1)
      return {
        records: shown.map(({ record }) => record),
        ...(more && last ? { cursor: encodeCursor(last.at) } : {}),
      }
    },
    async purge(before) {
      let deleted = 0
      const days = ((await send(keys.days, [
        'ZRANGE',
        keys.days,
        '-inf',
        String(before),
        'BYSCORE',
      ])) ?? []) as string[]
      for (const day of days.map(String)) {
        const whole = dayStart(day) + DAY_MS <= before
        const streamsOfDay = [keys.day(day), ...AUDIT_TYPES.map((type) => keys.typeDay(type, day))]
        for (const [i, key] of streamsOfDay.entries()) {
          if (whole) {
            const length = Number(await send(key, ['XLEN', key]))
            await send(key, ['DEL', key])
            if (i === 0) deleted += length
          } else {
            const trimmed = Number(await send(key, ['XTRIM', key, 'MINID', String(before)]))
            if (i === 0) deleted += trimmed
          }
        }
        if (whole) await send(keys.days, ['ZREM', keys.days, day])
      }
      const users = ((await send(keys.users, [
        'ZRANGE',
        keys.users,
        '-inf',
        `(${before}`,
        'BYSCORE',
        'LIMIT',
        '0',
        String(PURGE_USERS),
      ])) ?? []) as string[]
      for (const uid of users.map(String)) {
        const key = keys.user(uid)
        await send(key, ['XTRIM', key, 'MINID', String(before)])
        const [first] = ((await send(key, ['XRANGE', key, '-', '+', 'COUNT', '1'])) ??
          []) as Entry[]
        const oldest = first && recordOf(first)
        if (oldest) await send(keys.users, ['ZADD', keys.users, 'XX', String(oldest.at), uid])
        else await send(keys.users, ['ZREM', keys.users, uid])
      }
      return deleted
    },
  }
  return log
}
