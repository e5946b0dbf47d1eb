/* The atomic claims a `claims:<scope>` object holds (see `UserSessions.claim`). */

/** Claims `id` with `tag` until `now + ttl`: null when it was free, else the tag it carries. */
export function claimRow(
  sql: SqlStorage,
  id: string,
  tag: string,
  ttl: number,
  now: number,
): string | null {
  const row = sql
    .exec<{ tag: string; expires_at: number }>('SELECT * FROM claims WHERE id = ?', id)
    .toArray()[0]
  if (row && row.expires_at > now) return row.tag
  sql.exec(
    'INSERT OR REPLACE INTO claims (id, tag, expires_at) VALUES (?, ?, ?)',
    id,
    tag,
    now + ttl,
  )
  return null
}

/** While `id` carries `tag` at `now`, gives it `next` until `now + ttl`, or frees it (null). */
export function swapRow(
  sql: SqlStorage,
  id: string,
  tag: string,
  next: string | null,
  ttl: number,
  now: number,
): boolean {
  const held = sql
    .exec<{ n: number }>(
      'SELECT COUNT(*) AS n FROM claims WHERE id = ? AND tag = ? AND expires_at > ?',
      id,
      tag,
      now,
    )
    .one().n
  if (!held) return false
  if (next === null) sql.exec('DELETE FROM claims WHERE id = ?', id)
  else sql.exec('UPDATE claims SET tag = ?, expires_at = ? WHERE id = ?', next, now + ttl, id)
  return true
}
