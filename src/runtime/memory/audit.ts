import { decodeCursor, encodeCursor, pageLimit } from '../../operators/cursor'
import type {
  AuditFilter,
  AuditLog,
  AuditRecord,
  AuditSettings,
  StoredAuditRecord,
} from '../../operators/ports'
import { retention } from '../../operators/retention'

/** Whether `record` passes `filter`, and is within retention (`cutoff`, unix ms). */
export function auditMatches(record: AuditRecord, filter: AuditFilter, cutoff: number): boolean {
  return (
    record.at >= cutoff &&
    (filter.uid === undefined || record.uid === filter.uid) &&
    (filter.type === undefined || record.type === filter.type) &&
    (filter.since === undefined || record.at >= filter.since) &&
    (filter.until === undefined || record.at < filter.until)
  )
}

let next = 1 // ids are unique in the process, whichever log holds them

/**
 * An {@link AuditLog} in this process's memory, oldest first: for tests and a
 * single process. Purges itself at most once an hour.
 *
 * @param records where the records are kept: pass one array to several logs
 *   (each with its own clock) to play isolates sharing one store
 */
export function memoryAudit(
  settings: AuditSettings,
  records: StoredAuditRecord[] = [],
): AuditLog & { readonly size: number } {
  const kept = retention(settings)
  const log: AuditLog & { readonly size: number } = {
    async append(batch) {
      for (const record of batch) {
        const stored = { ...record, id: String(next++) }
        if (record.detail) stored.detail = { ...record.detail }
        // Oldest first by time, then by arrival: a late record of an earlier time goes before.
        let i = records.length
        while (i > 0 && (records[i - 1] as StoredAuditRecord).at > record.at) i--
        records.splice(i, 0, stored)
      }
      if (kept.due()) await log.purge(kept.cutoff())
    },
    async query(filter, page) {
      const limit = pageLimit(page.limit)
      const [afterAt, afterId] = decodeCursor(page.cursor, ['number', 'number'] as const) ?? [
        Number.NEGATIVE_INFINITY,
        0,
      ]
      const cutoff = kept.cutoff()
      const found: StoredAuditRecord[] = []
      for (const record of records) {
        const past = record.at > afterAt || (record.at === afterAt && Number(record.id) > afterId)
        if (!past || !auditMatches(record, filter, cutoff)) continue
        found.push({ ...record })
        if (found.length > limit) break
      }
      const more = found.length > limit
      const shown = found.slice(0, limit)
      const last = shown.at(-1)
      return {
        records: shown,
        ...(more && last ? { cursor: encodeCursor([last.at, Number(last.id)]) } : {}),
      }
    },
    async purge(before) {
      const old = records.length
      const keep = records.filter((record) => record.at >= before)
      records.splice(0, records.length, ...keep)
      return old - keep.length
    },
    get size() {
      return records.length
    },
  }
  return log
}
