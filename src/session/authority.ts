import { WxaAuthError } from '../errors'
import type { UserSessions } from './object'
import type { Outcome, SessionChange, SessionPolicy, SessionRecord, SessionSummary } from './record'

/**
 * The one writer of session state, per user. Every method is one atomic step
 * of the rules in `rules.ts`; `now` is the caller's clock (unix seconds). The
 * Durable Object `UserSessions` is one implementation ({@link durableAuthority});
 * another store with atomic operations (Redis, on a Node runtime) can be another.
 *
 * A change that fails may have failed before the authority was reached
 * (`STORAGE_UNAVAILABLE`: nothing was written) or after (`STORAGE_OUTCOME_UNKNOWN`:
 * it may have been made). Reads fail as `STORAGE_UNAVAILABLE` only.
 */
export interface SessionAuthority {
  /** Creates a session; returns the ids of sessions the cap ended. */
  login(
    uid: string,
    id: string,
    record: SessionRecord,
    policy: SessionPolicy,
    now: number,
  ): Promise<string[]>
  /** The live session, or null (ended, expired, unknown). */
  read(uid: string, id: string, now: number): Promise<SessionRecord | null>
  write(
    uid: string,
    id: string,
    gen: number,
    change: SessionChange,
    policy: SessionPolicy,
    now: number,
  ): Promise<Outcome>
  refresh(
    uid: string,
    id: string,
    gen: number,
    change: SessionChange | null,
    policy: SessionPolicy,
    now: number,
  ): Promise<Outcome>
  /** Ends one session; false when it was not live. */
  end(uid: string, id: string, now: number): Promise<boolean>
  /** Ends all of the user's sessions (of one app, with `appId`); returns their ids. */
  endAll(uid: string, now: number, appId?: string): Promise<string[]>
  /** Forgets the user: ends every session and deletes every identity it logged in with. */
  forget(uid: string, now: number): Promise<string[]>
  /** The live sessions, newest first. */
  list(uid: string, now: number): Promise<SessionSummary[]>
}

/**
 * Atomic claims of ids (a WeChat push query, an event already handled), per
 * scope (an app). `claim` answers null when `id` was free and is now
 * claimed with `tag`, or the tag it already carries.
 */
export interface ClaimStore {
  claim(scope: string, id: string, tag: string, ttl: number, now: number): Promise<string | null>
  peek(scope: string, id: string, now: number): Promise<string | null>
}

/** Whether a Durable Object call failed before reaching the object: nothing was done. */
const unreached = (err: unknown) =>
  typeof err === 'object' && err !== null && (err as { overloaded?: boolean }).overloaded === true

async function call<T>(what: string, op: () => Promise<T>, mutation: boolean): Promise<T> {
  try {
    return await op()
  } catch (cause) {
    const code = mutation && !unreached(cause) ? 'STORAGE_OUTCOME_UNKNOWN' : 'STORAGE_UNAVAILABLE'
    throw new WxaAuthError(code, undefined, {
      cause: new Error(`session object ${what} failed`, { cause }),
      retryAfter: 1,
    })
  }
}

/**
 * The session authority as one `UserSessions` Durable Object per user id.
 * An object that is overloaded was not reached: `STORAGE_UNAVAILABLE` (503,
 * `Retry-After: 1`), nothing written. Any other failure of a change (a
 * network fault, a reset) may come after its commit: `STORAGE_OUTCOME_UNKNOWN`.
 *
 * @param namespace the `USER_SESSIONS` binding
 */
export function durableAuthority(
  namespace: DurableObjectNamespace<UserSessions>,
): SessionAuthority {
  const object = (uid: string) => namespace.get(namespace.idFromName(uid))
  return {
    login: (uid, id, record, policy, now) =>
      call('login', () => object(uid).login(uid, id, record, policy, now), true),
    read: (uid, id, now) => call('read', () => object(uid).read(uid, id, now), false),
    write: (uid, id, gen, change, policy, now) =>
      call('write', () => object(uid).write(uid, id, gen, change, policy, now), true),
    refresh: (uid, id, gen, change, policy, now) =>
      call('refresh', () => object(uid).refresh(uid, id, gen, change, policy, now), true),
    end: (uid, id, now) => call('end', () => object(uid).end(uid, id, now), true),
    endAll: (uid, now, appId) => call('endAll', () => object(uid).endAll(uid, now, appId), true),
    forget: (uid, now) => call('forget', () => object(uid).forget(uid, now), true),
    list: (uid, now) => call('list', () => object(uid).list(uid, now), false),
  } as SessionAuthority
}

/** Claims in the app's own object of the `USER_SESSIONS` namespace, named `app:<appid>`. */
export function durableClaims(namespace: DurableObjectNamespace<UserSessions>): ClaimStore {
  const object = (scope: string) => namespace.get(namespace.idFromName(`app:${scope}`))
  return {
    claim: (scope, id, tag, ttl, now) =>
      call('claim', () => object(scope).claim(id, tag, ttl, now), true),
    peek: (scope, id, now) => call('peek', () => object(scope).peek(id, now), false),
  }
}
