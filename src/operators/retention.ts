import type { AuditSettings } from './ports'

export const DAY_MS = 24 * 60 * 60 * 1000
export const PURGE_EVERY_MS = 60 * 60 * 1000 // an hour: how often a store purges by itself, per isolate or process

/**
 * An audit store's retention: the oldest time it still returns, and whether
 * its own purge is due (at most once per {@link PURGE_EVERY_MS} per store
 * object, that is per isolate or process).
 */
export function retention({ retentionDays, now = Date.now }: AuditSettings) {
  let last = Number.NEGATIVE_INFINITY
  return {
    now,
    /** Unix ms: records before it are past retention. */
    cutoff: () => now() - retentionDays * DAY_MS,
    /** True at most once an hour; the caller purges then. */
    due() {
      const t = now()
      if (t - last < PURGE_EVERY_MS && t >= last) return false
      last = t
      return true
    },
  }
}
