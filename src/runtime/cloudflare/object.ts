import { DurableObject } from 'cloudflare:workers'
import type { WxaBindings } from '../../env'
import type { Logger } from '../../errors'
import type { SessionAuthority } from '../../session/authority'
import type { ProfileRecord, ProfileUpdate } from '../../session/profile'
import type {
  Ban,
  BanRefused,
  Caller,
  CallerRefused,
  Outcome,
  SessionChange,
  SessionPolicy,
  SessionRecord,
  SessionSummary,
} from '../../session/record'
import type { SessionTable } from '../../session/rules'
import {
  identityKeysOf,
  runStep,
  type Transact,
  transactionalAuthority,
} from '../../session/transactional'
import { storageCipher } from '../../storage/cipher'
import { type SealedKv, sealedKv } from '../../storage/sealed-kv'
import type { RefreshPresented } from '../../token/refresh'
import { ObjectAlarm } from './alarm'
import { workersKv } from './kv'
import { sessionsToMigrate, sessionToMigrate } from './migrate-kv-sessions'
import { drainOutbox, drainReplica } from './outbox'
import {
  commitStep,
  countRows,
  insertSession,
  keptUntil,
  nextExpiry,
  OUTBOX_TABLE,
  owesWork,
  readMeta,
  replicaOwesDelete,
  replicateForEdge,
  SCHEMA,
  sqliteOf,
  sqlSnapshot,
  sqlTable,
  toOutbox,
  writeMeta,
} from './sql'
import { claimRow, swapRow } from './sql-claims'
import { deleteSessions } from './sql-keys'

const EMPTY_GRACE_MS = 5 * 60 * 1000 // an emptied object keeps its birth this long (KV's stale reads)
const MIGRATION_MARGIN = 60 // seconds: a record this close to the object's birth may be its own

/**
 * The session authority of one user: the only writer of that user's
 * sessions (login, refresh, data changes, logout, revocation, the cap), one
 * SQLite-backed Durable Object per user id. Each rule runs as one synchronous
 * step on its SQLite table, and the alarm that retries the KV replica is set
 * in that same step, before any KV I/O: an object reset after a commit still
 * retries. KV is the edge's read replica, written lazily: a session gets a
 * sealed copy there once the edge asks the object for it (a KV miss), and
 * from then on each change rewrites the copy (or deletes it). An ended
 * session stays a tombstone until its KV delete is confirmed. The object also keeps an index of the user's
 * identities (`identity:<appid>:<openid>`, `unionid:<unionid>`), so that
 * forgetting the user deletes them all.
 *
 * Named `claims:<scope>`, an object holds atomic claims instead (WeChat push
 * queries, see {@link UserSessions.claim}): a user id never contains `:`.
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
  /** The rules of `rules.ts`, run as every store runs them (see {@link UserSessions.#transact}). */
  readonly #rules: SessionAuthority
  #uid: string | undefined
  #flushing: Promise<boolean> | null = null
  readonly #alarm: ObjectAlarm

  constructor(ctx: DurableObjectState, env: WxaBindings) {
    super(ctx, env)
    this.#sql = sqliteOf(ctx)
    this.#alarm = new ObjectAlarm(ctx.storage, () => this.log)
    this.replicaKv = sealedKv(workersKv(env.SESSIONS), storageCipher(env))
    this.#table = sqlTable(this.#sql)
    // Forget's identities go to the outbox before the step that ends the sessions.
    this.#rules = transactionalAuthority(this.#transact, async (_uid, keys) => {
      for (const key of keys) toOutbox(this.#sql, key)
    })
    // Owed KV work outlives a reset: make sure an alarm will do it.
    void ctx.blockConcurrencyWhile(async () => {
      if ((await this.#alarm.load()) === null && this.#pending()) this.#alarm.arm(Date.now(), true)
    })
  }

  /**
   * Runs one step of the rules (see `runStep`) on this user's SQLite as one
   * synchronous transaction, and writes back what it changed in it; then,
   * when it changed anything, settles what KV is owed.
   */
  #transact: Transact = async (_uid, step) => {
    const { result, changes, endedAll } = this.ctx.storage.transactionSync(() => {
      const before = sqlSnapshot(this.#sql, this.#table)
      const ran = runStep(before, step)
      if (ran.changes) commitStep(this.#sql, before, ran.changes)
      // Whatever an eventually consistent list of KV missed: swept by the drain.
      if (ran.endedAll) this.#setMeta('sweep', '1')
      return ran
    })
    return changes || endedAll ? this.#settle(result) : result
  }

  async login(
    uid: string,
    id: string,
    record: SessionRecord,
    refreshHash: string,
    policy: SessionPolicy,
    now: number,
    sessionKey?: string,
  ): Promise<{ ended: string[] } | BanRefused> {
    await this.#ready(uid, now)
    return this.#rules.login(uid, id, record, refreshHash, policy, now, sessionKey)
  }

  /**
   * The live session, or null. With `replicate` (the edge missed it in KV), a copy is owed
   * and written after the answer; one that fails is tried again at the next miss.
   */
  async read(
    uid: string,
    id: string,
    now: number,
    replicate = false,
  ): Promise<SessionRecord | null> {
    await this.#ready(uid, now)
    await this.#migrate(uid, id, now)
    const record = await this.#rules.read(uid, id, now)
    if (record && replicate && replicateForEdge(this.#sql, id)) void this.#flush()
    return record
  }

  async write(
    uid: string,
    id: string,
    gen: number,
    change: SessionChange,
    policy: SessionPolicy,
    now: number,
  ): Promise<Outcome> {
    await this.#ready(uid, now)
    await this.#migrate(uid, id, now)
    return this.#rules.write(uid, id, gen, change, policy, now)
  }

  refresh(
    uid: string,
    id: string,
    presented: RefreshPresented,
    policy: SessionPolicy,
    now: number,
  ): Promise<Outcome & { replayed?: boolean }> {
    return this.#ready(uid, now).then(() => this.#rules.refresh(uid, id, presented, policy, now))
  }

  async end(uid: string, id: string, now: number, by?: Caller): Promise<boolean | CallerRefused> {
    await this.#ready(uid, now)
    await this.#migrate(uid, id, now)
    return this.#rules.end(uid, id, now, by)
  }

  /** Ends the user's sessions (of one app, with `appId`); all of them sweep their KV keys. */
  endAll(uid: string, now: number, appId?: string, by?: Caller): Promise<string[] | CallerRefused> {
    return this.#ready(uid, now).then(() => this.#rules.endAll(uid, now, appId, by))
  }

  /**
   * Forgets the user (account deletion, WeChat's cancellation): ends every
   * session, sweeps `session:<uid>:` in KV, and deletes every identity and
   * unionid link the user logged in with, in any app. The deletes are in
   * the outbox, retried by the alarm until they land.
   */
  forget(uid: string, now: number): Promise<string[]> {
    return this.#ready(uid, now).then(() => this.#rules.forget(uid, now))
  }

  /** The user's session_key of `slot`, sealed; it lives as long as the user's sessions. */
  async sessionKey(uid: string, slot: string): Promise<string | null> {
    await this.#ready(uid, Math.floor(Date.now() / 1000))
    return this.#rules.sessionKey(uid, slot)
  }

  async setSessionKey(uid: string, slot: string, sealed: string): Promise<void> {
    await this.#ready(uid, Math.floor(Date.now() / 1000))
    return this.#rules.setSessionKey(uid, slot, sealed)
  }

  list(uid: string, now: number): Promise<SessionSummary[]> {
    return this.#ready(uid, now).then(() => this.#rules.list(uid, now))
  }

  profile(uid: string, now: number): Promise<ProfileRecord | null> {
    return this.#ready(uid, now).then(() => this.#rules.profile(uid, now))
  }

  /** Changes the profile in one step; a dropped avatar goes to the outbox, retried until R2 has it. */
  async updateProfile(
    uid: string,
    update: ProfileUpdate,
    now: number,
    by?: Caller,
  ): Promise<ProfileRecord | null | CallerRefused> {
    return this.#ready(uid, now).then(() => this.#rules.updateProfile(uid, update, now, by))
  }

  /** Sets the ban (every session ends in the step, KV's copies swept), or lifts it (null): whether one held. */
  ban(uid: string, ban: Ban | null, now: number): Promise<string[] | boolean> {
    return this.#ready(uid, now).then(
      (): Promise<string[] | boolean> =>
        ban ? this.#rules.ban(uid, ban, now) : this.#rules.unban(uid, now),
    )
  }

  banned(uid: string, now: number): Promise<Ban | null> {
    return this.#ready(uid, now).then(() => this.#rules.banned(uid, now))
  }

  /** Claims `id` with `tag` for `ttl` seconds, atomically: null when it was free, else its tag. */
  async claim(id: string, tag: string, ttl: number, now: number): Promise<string | null> {
    const held = claimRow(this.#sql, id, tag, ttl, now)
    if (held === null) this.#arm()
    return held
  }

  /** While `id` carries `tag`, gives it `next` for `ttl` seconds, or frees it (null). */
  async swap(id: string, tag: string, next: string | null, ttl: number, now: number) {
    const swapped = swapRow(this.#sql, id, tag, next, ttl, now)
    if (swapped) this.#arm()
    return swapped
  }

  /** Drops rows past their expiry, retries owed KV work, and wakes again when needed. */
  override async alarm() {
    this.#alarm.rang()
    const now = Math.floor(Date.now() / 1000)
    // An expired session's KV copy expires with it (its TTL): nothing is owed for it.
    deleteSessions(this.#sql, 'expires_at <= ?', now)
    this.#sql.exec('DELETE FROM claims WHERE expires_at <= ?', now)
    this.#uid ??= this.#meta('uid')
    if (this.#empty()) {
      const emptiedAt = Number(this.#meta('emptied') ?? 0)
      if (emptiedAt && Date.now() - emptiedAt >= EMPTY_GRACE_MS) {
        // Nothing left to keep: the object's storage goes, as if it never existed.
        await this.ctx.storage.deleteAll()
        this.#uid = undefined
        this.#sql.exec(SCHEMA)
        return
      }
    }
    await this.#settle(null)
  }

  #meta = (key: string) => readMeta(this.#sql, key)
  #setMeta = (key: string, value: string | null) => writeMeta(this.#sql, key, value)

  /** Unix seconds of the object's first call by this version. */
  #born = (): number => Number(this.#meta('born') ?? Math.floor(Date.now() / 1000))

  #count = (table: 'sessions' | typeof OUTBOX_TABLE | 'claims') => countRows(this.#sql, table)

  #pending = () => owesWork(this.#sql)

  /** Nothing to keep: no session, claim, owed KV work, live identity or ban, profile (kept until deleted). */
  #empty(): boolean {
    return (
      this.#count('sessions') + this.#count('claims') === 0 &&
      !this.#pending() &&
      this.#meta('profile') === undefined &&
      keptUntil(this.#sql) * 1000 <= Date.now()
    )
  }

  /**
   * On the first call, remembers whose object this is and when it was born,
   * and migrates the user's sessions that are in KV but not here: those an
   * earlier version (0.1, with KV as the only store) made. Nothing else runs meanwhile.
   */
  async #ready(uid: string, now: number) {
    this.#uid ??= this.#meta('uid')
    if (this.#uid === uid) {
      // An object of 0.2 has no birth yet: from now on its sessions are its own.
      if (this.#meta('born') === undefined) this.#setMeta('born', String(now))
      return
    }
    if (this.#uid !== undefined)
      throw new Error('wxa-auth: a user object was called for another user')
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.#meta('uid') === uid) return
      for (const [id, record] of await sessionsToMigrate(this.replicaKv, uid, now)) {
        this.#insert(id, record)
      }
      this.#setMeta('uid', uid)
      this.#setMeta('born', String(now))
    })
    this.#uid = uid
  }

  /** A migrated session, and its identities in the index. */
  #insert(id: string, record: SessionRecord) {
    insertSession(this.#sql, id, record)
    for (const key of identityKeysOf(record)) {
      this.#sql.exec('INSERT OR IGNORE INTO identities (key) VALUES (?)', key)
    }
  }

  /** Migrates a session this object never heard of, found in KV and older than it (see `sessionToMigrate`). */
  async #migrate(uid: string, id: string, now: number) {
    if (this.#table.get(id)) return
    const bornBefore = this.#born() - MIGRATION_MARGIN
    const record = await sessionToMigrate(this.replicaKv, uid, id, now, bornBefore)
    if (record && !this.#table.get(id)) this.#insert(id, record)
  }

  /** Wants the alarm for the next retry or expiry, in the step that made the work: no await before it. */
  #arm(settled = false) {
    const next = nextExpiry(this.#sql)
    let wake = next === null ? Infinity : next * 1000
    const retry = this.#pending()
    if (retry) wake = Math.min(wake, Date.now() + this.#alarm.retryMs)
    const kept = keptUntil(this.#sql) * 1000
    if (kept > Date.now()) wake = Math.min(wake, kept)
    if (this.#empty()) {
      const emptied = Number(this.#meta('emptied') ?? 0) || Date.now()
      this.#setMeta('emptied', String(emptied))
      wake = Math.min(wake, emptied + EMPTY_GRACE_MS)
    } else {
      this.#setMeta('emptied', null)
    }
    this.#alarm.arm(wake, retry, settled)
  }

  /**
   * After a rule: arms the alarm (in the rule's step), then writes what KV is
   * owed and arms it again for what remains.
   */
  async #settle<T>(result: T): Promise<T> {
    this.#arm()
    const failed = await this.#flush()
    if (!failed) this.#alarm.tried(false, false)
    this.#arm(true)
    if (failed) {
      const deletes =
        this.#count(OUTBOX_TABLE) > 0 || replicaOwesDelete(this.#sql, Date.now() / 1000)
      this.#alarm.tried(true, deletes)
    }
    return result
  }

  /** Writes what KV and R2 are owed, one drain at a time; true when it failed. */
  #flush(): Promise<boolean> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = null
    })
    return this.#flushing
  }

  /** One writer of the replica at a time, each key written as it is now: no stale write wins. */
  async #drain(): Promise<boolean> {
    const uid = this.#uid
    if (uid === undefined) return false
    try {
      await drainReplica(this.#sql, {
        uid,
        kv: this.replicaKv,
        table: this.#table,
        keepBefore: (this.#born() - MIGRATION_MARGIN) * 1000,
      })
      await drainOutbox(this.#sql, {
        uid,
        kv: this.replicaKv,
        objects: this.env.AVATARS,
        live: (id) => Boolean(this.#table.get(id)?.record),
      })
      return false
    } catch (err) {
      this.log.error(
        `wxa-auth: KV replica write failed; retried later: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : err}`,
      )
      return true
    }
  }
}
