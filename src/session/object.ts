import { DurableObject } from 'cloudflare:workers'
import type { WxaBindings } from '../config'
import type { Logger } from '../errors'
import { createCipher } from '../storage/cipher'
import { sessionRecordKey, ttlUntil } from '../storage/keys'
import { type SealedKv, sealedKv } from '../storage/sealed-kv'
import { checkSecret } from '../token/keys'
import type { Outcome, SessionChange, SessionPolicy, SessionRecord, SessionSummary } from './record'
import { rules, type SessionTable, type StoredSession } from './rules'

export const REPLICA_RETRY_MS = 10_000 // first retry of a failed KV write; doubled up to 10 minutes

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  record TEXT,
  expires_at INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS replica (id TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

type Row = { id: string; record: string | null; expires_at: number; created_ms: number }

const stored = (row: Row): StoredSession => ({
  id: row.id,
  record: row.record === null ? null : (JSON.parse(row.record) as SessionRecord),
  expiresAt: row.expires_at,
  createdAtMs: row.created_ms,
})

/**
 * The session authority of one user: the only writer of that user's
 * sessions (login, refresh, data changes, logout, revocation, the cap), one
 * SQLite-backed Durable Object per user id. Each rule runs as one synchronous
 * step on its SQLite table, so calls never interleave inside a rule. After a
 * change it writes the sealed record to KV (or deletes it): KV is the edge's
 * read replica. A failed KV write is owed in the `replica` table and retried
 * by an alarm; ended sessions stay as tombstones until their last expiry.
 *
 * Bind it as `USER_SESSIONS` (wrangler.toml `new_sqlite_classes`) and export
 * it from your Worker's entry.
 */
export class UserSessions extends DurableObject<WxaBindings> {
  /** Where a failed replica write is reported; a subclass may send it elsewhere. */
  protected log: Logger = console
  /** Where the KV replica is written. @internal tests swap it for a failing one */
  replicaKv: SealedKv
  readonly #sql: SqlStorage
  readonly #table: SessionTable
  #uid: string | undefined
  #flushing: Promise<boolean> | null = null
  #retryMs = REPLICA_RETRY_MS

  constructor(ctx: DurableObjectState, env: WxaBindings) {
    super(ctx, env)
    this.#sql = ctx.storage.sql
    this.#sql.exec(SCHEMA)
    this.replicaKv = sealedKv(
      env.SESSIONS,
      createCipher(checkSecret('STORAGE_SECRET', env.STORAGE_SECRET)),
    )
    const sql = this.#sql
    this.#table = {
      get: (id) => {
        const row = sql.exec<Row>('SELECT * FROM sessions WHERE id = ?', id).toArray()[0]
        return row && stored(row)
      },
      put: (s) => {
        sql.exec(
          `INSERT INTO sessions (id, record, expires_at, created_ms) VALUES (?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at`,
          s.id,
          s.record === null ? null : JSON.stringify(s.record),
          s.expiresAt,
          s.createdAtMs,
        )
        // Every change is owed to the replica; the version tells a newer change from one written.
        sql.exec(
          `INSERT INTO replica (id, version) VALUES (?, 1)
           ON CONFLICT(id) DO UPDATE SET version = version + 1`,
          s.id,
        )
      },
      all: () => sql.exec<Row>('SELECT * FROM sessions').toArray().map(stored),
    }
  }

  async login(uid: string, id: string, record: SessionRecord, policy: SessionPolicy, now: number) {
    await this.#ready(uid)
    const changed = rules.login(this.#table, id, record, policy, now)
    await this.#settle()
    return changed.slice(1)
  }

  async read(uid: string, id: string, now: number): Promise<SessionRecord | null> {
    await this.#ready(uid)
    return rules.read(this.#table, id, now)
  }

  async write(
    uid: string,
    id: string,
    gen: number,
    change: SessionChange,
    policy: SessionPolicy,
    now: number,
  ): Promise<Outcome> {
    await this.#ready(uid)
    const outcome = rules.write(this.#table, id, gen, change, policy, now)
    await this.#settle()
    return outcome
  }

  async refresh(
    uid: string,
    id: string,
    gen: number,
    change: SessionChange | null,
    policy: SessionPolicy,
    now: number,
  ): Promise<Outcome> {
    await this.#ready(uid)
    const outcome = rules.refresh(this.#table, id, gen, change, policy, now)
    await this.#settle()
    return outcome
  }

  async end(uid: string, id: string, now: number): Promise<boolean> {
    await this.#ready(uid)
    const ended = rules.end(this.#table, id, now)
    await this.#settle()
    return ended
  }

  async endAll(uid: string, now: number): Promise<string[]> {
    await this.#ready(uid)
    const ended = rules.endAll(this.#table, now)
    await this.#settle()
    return ended
  }

  async list(uid: string, now: number): Promise<SessionSummary[]> {
    await this.#ready(uid)
    return rules.list(this.#table, now)
  }

  /** Drops rows past their expiry, retries owed KV writes, and wakes again when needed. */
  override async alarm() {
    const now = Math.floor(Date.now() / 1000)
    const gone = this.#sql
      .exec<{ id: string }>('DELETE FROM sessions WHERE expires_at <= ? RETURNING id', now)
      .toArray()
    for (const { id } of gone) this.#sql.exec('DELETE FROM replica WHERE id = ?', id)
    const rows = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM sessions').one().n
    if (rows === 0) {
      // Nothing left to keep: the object's storage goes, as if it never existed.
      await this.ctx.storage.deleteAll()
      this.#uid = undefined
      this.#sql.exec(SCHEMA)
      return
    }
    this.#uid ??= this.#meta('uid')
    await this.#settle()
  }

  #meta(key: string): string | undefined {
    return this.#sql
      .exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)
      .toArray()[0]?.value
  }

  /**
   * On the first call, remembers whose object this is and adopts the user's
   * sessions that are in KV but not here: those an earlier version (0.1, with
   * KV as the only store) made. Nothing else runs meanwhile.
   */
  async #ready(uid: string) {
    this.#uid ??= this.#meta('uid')
    if (this.#uid === uid) return
    if (this.#uid !== undefined)
      throw new Error('wxa-auth: a user object was called for another user')
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.#meta('uid') === uid) return
      const now = Math.floor(Date.now() / 1000)
      const prefix = sessionRecordKey(uid, '')
      for (const key of await this.replicaKv.keys(prefix)) {
        const found = await this.replicaKv.get<SessionRecord>(key)
        const record = found?.value
        if (!record || record.uid !== uid || record.expiresAt <= now) continue
        this.#sql.exec(
          'INSERT OR IGNORE INTO sessions (id, record, expires_at, created_ms) VALUES (?, ?, ?, ?)',
          key.slice(prefix.length),
          JSON.stringify(record),
          record.expiresAt,
          record.createdAtMs ?? record.createdAt * 1000,
        )
      }
      this.#sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('uid', ?)", uid)
    })
    this.#uid = uid
  }

  /** Writes what the replica is owed, then sets the alarm for the next expiry or retry. */
  async #settle() {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = null
    })
    const failed = await this.#flushing
    const next = this.#sql
      .exec<{ at: number | null }>('SELECT MIN(expires_at) AS at FROM sessions')
      .one().at
    const wake = Math.min(
      next === null ? Infinity : next * 1000,
      failed ? Date.now() + this.#retryMs : Infinity,
    )
    if (failed) this.#retryMs = Math.min(this.#retryMs * 2, 10 * 60 * 1000)
    else this.#retryMs = REPLICA_RETRY_MS
    if (wake === Infinity) return
    const current = await this.ctx.storage.getAlarm()
    if (current === null || current > wake) await this.ctx.storage.setAlarm(wake)
  }

  /** One writer of the replica at a time, each key written as it is now: no stale write wins. */
  async #drain(): Promise<boolean> {
    const uid = this.#uid
    if (uid === undefined) return false
    for (;;) {
      const owed = this.#sql
        .exec<{ id: string; version: number }>('SELECT * FROM replica')
        .toArray()
      if (owed.length === 0) return false
      for (const { id, version } of owed) {
        const record = this.#table.get(id)?.record
        const key = sessionRecordKey(uid, id)
        try {
          if (record && record.expiresAt > Date.now() / 1000) {
            await this.replicaKv.put(key, record, ttlUntil(record.expiresAt))
          } else {
            await this.replicaKv.delete(key)
          }
        } catch (err) {
          this.log.error(
            `wxa-auth: KV replica write failed; retrying by alarm: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : err}`,
          )
          return true
        }
        this.#sql.exec('DELETE FROM replica WHERE id = ? AND version = ?', id, version)
      }
    }
  }
}
