import { WxaAuthError } from '../errors'
import type { UserSessions } from './object'
import type { Outcome, SessionChange, SessionPolicy, SessionRecord, SessionSummary } from './record'

/**
 * The one writer of session state, per user. Every method is one atomic step
 * of the rules in `rules.ts`; `now` is the caller's clock (unix seconds). The
 * Durable Object `UserSessions` is one implementation ({@link durableAuthority});
 * another store with atomic operations (Redis, on a Node runtime) can be another.
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
  /** Ends all of the user's sessions; returns their ids. */
  endAll(uid: string, now: number): Promise<string[]>
  /** The live sessions, newest first. */
  list(uid: string, now: number): Promise<SessionSummary[]>
}

/**
 * The session authority as one `UserSessions` Durable Object per user id.
 * An object that cannot be reached (overloaded, a network fault, a reset)
 * is `STORAGE_UNAVAILABLE` (503, `Retry-After: 1`): the caller wrote nothing.
 *
 * @param namespace the `USER_SESSIONS` binding
 */
export function durableAuthority(
  namespace: DurableObjectNamespace<UserSessions>,
): SessionAuthority {
  const object = (uid: string) => namespace.get(namespace.idFromName(uid))
  async function call<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op()
    } catch (cause) {
      throw new WxaAuthError('STORAGE_UNAVAILABLE', undefined, {
        cause: new Error(`session object ${what} failed`, { cause }),
        retryAfter: 1,
      })
    }
  }
  return {
    login: (uid, id, record, policy, now) =>
      call('login', () => object(uid).login(uid, id, record, policy, now)),
    read: (uid, id, now) => call('read', () => object(uid).read(uid, id, now)),
    write: (uid, id, gen, change, policy, now) =>
      call('write', () => object(uid).write(uid, id, gen, change, policy, now)),
    refresh: (uid, id, gen, change, policy, now) =>
      call('refresh', () => object(uid).refresh(uid, id, gen, change, policy, now)),
    end: (uid, id, now) => call('end', () => object(uid).end(uid, id, now)),
    endAll: (uid, now) => call('endAll', () => object(uid).endAll(uid, now)),
    list: (uid, now) => call('list', () => object(uid).list(uid, now)),
  } as SessionAuthority
}
