// Cloudflare's list prices, per million units beyond what the Workers Paid
// plan ($5 a month) includes, in US dollars: what one more request costs
// once the plan's allowances are used up. Taken on PRICES_DATE from
//   https://developers.cloudflare.com/workers/platform/pricing/ (Workers: requests, CPU; KV; R2)
//   https://developers.cloudflare.com/kv/platform/pricing/
//   https://developers.cloudflare.com/durable-objects/platform/pricing/ (compute; SQLite storage)
//   https://developers.cloudflare.com/r2/pricing/ (Standard storage)
//   https://developers.cloudflare.com/d1/platform/pricing/ (each index a row written is written to counts one more)
// Update the numbers and the date together when Cloudflare changes them.
export const PRICES_DATE = '2026-12-01'

export const PRICES = {
  workers: {
    requests: 0.3, // per million requests (10 million a month included)
    cpuMs: 0.02, // per million CPU milliseconds (30 million a month included)
  },
  kv: {
    reads: 0.5, // per million (10 million a month included)
    writes: 5.0, // per million (1 million a month included)
    deletes: 5.0, // per million (1 million a month included)
    lists: 5.0, // per million (1 million a month included)
  },
  durableObjects: {
    requests: 0.15, // per million: each RPC method call on a stub, each alarm (1 million included)
    gbSeconds: 12.5, // per million GB-s of wall time while active, at 128 MB (400,000 GB-s included)
    memoryGb: 0.125, // 128 MB: billed whatever the object uses
    rowsRead: 0.001, // per million SQLite rows read (25 billion a month included)
    rowsWritten: 1.0, // per million SQLite rows written, each setAlarm() one (50 million included)
  },
  d1: {
    rowsRead: 0.001, // per million rows read (25 billion a month included)
    rowsWritten: 1.0, // per million rows written, index entries included (50 million included)
  },
  r2: {
    classA: 4.5, // per million PutObject, ListObjects, CreateMultipartUpload… (1 million included)
    classB: 0.36, // per million GetObject, HeadObject… (10 million included); DeleteObject is free
  },
}

/**
 * Dollars per million requests of a scenario, by product, from what one
 * request used: `cpuMs`, KV `reads`/`writes`/`deletes`/`lists`, session-object
 * `objectRequests` and `objectMs` (active wall time), SQLite `rowsRead` and
 * `rowsWritten` (alarms set included), R2 `classA`/`classB`, D1 `d1RowsRead`
 * and `d1RowsWritten` (the directory and the audit log).
 */
export function costPerMillion(used) {
  const { workers, kv, durableObjects: objects, r2, d1 } = PRICES
  const parts = {
    requests: workers.requests,
    cpu: used.cpuMs * workers.cpuMs,
    kv:
      used.reads * kv.reads +
      used.writes * kv.writes +
      used.deletes * kv.deletes +
      used.lists * kv.lists,
    objects:
      used.objectRequests * objects.requests +
      (used.objectMs / 1000) * objects.memoryGb * objects.gbSeconds +
      used.rowsRead * objects.rowsRead +
      used.rowsWritten * objects.rowsWritten,
    r2: used.classA * r2.classA + used.classB * r2.classB,
    d1: (used.d1RowsRead ?? 0) * d1.rowsRead + (used.d1RowsWritten ?? 0) * d1.rowsWritten,
  }
  return { ...parts, total: Object.values(parts).reduce((sum, part) => sum + part, 0) }
}
