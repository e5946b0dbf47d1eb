import { WxaAuthError } from '../../errors'
import type { ClaimStore, SessionAuthority } from '../../session/authority'
import type { ProfileRecord } from '../../session/profile'
import type { BanRefused, CallerRefused } from '../../session/record'
import type { UserSessions } from './object'
import { NOT_SQLITE } from './sql'

/** The first compatibility date with JS RPC to Durable Objects (without the `rpc` flag). */
export const RPC_COMPATIBILITY_DATE = '2024-04-03'

/** Whether a Durable Object call failed before reaching the object: nothing was done. */
const unreached = (err: unknown) =>
  typeof err === 'object' && err !== null && (err as { overloaded?: boolean }).overloaded === true

async function call<T>(what: string, op: () => Promise<T>, mutation: boolean): Promise<T> {
  try {
    return await op()
  } catch (cause) {
    // The object refused to start (KV storage): no retry can help, so not a 503.
    const message = cause instanceof Error ? cause.message : ''
    if (message.includes(NOT_SQLITE)) {
      throw new WxaAuthError('CONFIG_INVALID', message.slice(message.indexOf(NOT_SQLITE)))
    }
    const code = mutation && !unreached(cause) ? 'STORAGE_OUTCOME_UNKNOWN' : 'STORAGE_UNAVAILABLE'
    throw new WxaAuthError(code, undefined, {
      cause: new Error(`session object ${what} failed`, { cause }),
      retryAfter: 1,
    })
  }
}

/**
 * The binding as a namespace of `UserSessions` stubs, checked for JS RPC: a
 * Worker dated before {@link RPC_COMPATIBILITY_DATE} gets stubs without it, and
 * every call would fail as if storage were down. A stub is made without I/O.
 */
function rpcNamespace(binding: DurableObjectNamespace): DurableObjectNamespace<UserSessions> {
  const namespace = binding as DurableObjectNamespace<UserSessions>
  const probe = namespace.get(namespace.idFromName('claims:rpc-probe'))
  if (typeof (probe as { read?: unknown }).read !== 'function') {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      `The Durable Object binding USER_SESSIONS has no RPC: set compatibility_date >= ${RPC_COMPATIBILITY_DATE} in wrangler.toml.`,
    )
  }
  return namespace
}

/**
 * The session authority as one `UserSessions` Durable Object per user id.
 * An object that is overloaded was not reached: `STORAGE_UNAVAILABLE` (503,
 * `Retry-After: 1`), nothing written. Any other failure of a change (a
 * network fault, a reset) may come after its commit: `STORAGE_OUTCOME_UNKNOWN`.
 * A binding without RPC (`compatibility_date` before 2024-04-03), or an object
 * without SQLite storage (`new_classes` instead of `new_sqlite_classes`), is
 * `CONFIG_INVALID` (500): retrying would not help.
 *
 * @param namespace the `USER_SESSIONS` binding
 * @throws WxaAuthError `CONFIG_INVALID` when the binding has no RPC
 */
export function durableAuthority(binding: DurableObjectNamespace): SessionAuthority {
  const namespace = rpcNamespace(binding)
  const object = (uid: string) => namespace.get(namespace.idFromName(uid))
  return {
    login: (uid, id, record, refreshHash, policy, now, sessionKey) =>
      call(
        'login',
        () =>
          object(uid).login(uid, id, record, refreshHash, policy, now, sessionKey) as Promise<
            { ended: string[] } | BanRefused
          >,
        true,
      ),
    sessionKey: (uid, slot) => call('sessionKey', () => object(uid).sessionKey(uid, slot), false),
    setSessionKey: (uid, slot, sealed) =>
      call('setSessionKey', () => object(uid).setSessionKey(uid, slot, sealed), true),
    read: (uid, id, now, replicate) =>
      call('read', () => object(uid).read(uid, id, now, replicate), false),
    write: (uid, id, gen, change, policy, now) =>
      call('write', () => object(uid).write(uid, id, gen, change, policy, now), true),
    refresh: (uid, id, presented, policy, now) =>
      call('refresh', () => object(uid).refresh(uid, id, presented, policy, now), true),
    // RPC types a union return as a union of promises: the object answers one value.
    end: (uid, id, now, by) =>
      call(
        'end',
        () => object(uid).end(uid, id, now, by) as Promise<boolean | CallerRefused>,
        true,
      ),
    endAll: (uid, now, appId, by) =>
      call(
        'endAll',
        () => object(uid).endAll(uid, now, appId, by) as Promise<string[] | CallerRefused>,
        true,
      ),
    forget: (uid, now) => call('forget', () => object(uid).forget(uid, now), true),
    profile: (uid, now) => call('profile', () => object(uid).profile(uid, now), false),
    updateProfile: (uid, update, now, by) =>
      call(
        'updateProfile',
        () =>
          object(uid).updateProfile(uid, update, now, by) as Promise<
            ProfileRecord | null | CallerRefused
          >,
        true,
      ),
    list: (uid, now) => call('list', () => object(uid).list(uid, now), false),
    ban: (uid, ban, now) =>
      call('ban', () => object(uid).ban(uid, ban, now) as Promise<string[]>, true),
    unban: (uid, now) =>
      call('unban', () => object(uid).ban(uid, null, now) as Promise<boolean>, true),
    banned: (uid, now) => call('banned', () => object(uid).banned(uid, now), false),
  } as SessionAuthority
}

/** Claims in objects of the `USER_SESSIONS` namespace named `claims:<scope>`. */
export function durableClaims(binding: DurableObjectNamespace): ClaimStore {
  const namespace = rpcNamespace(binding)
  const object = (scope: string) => namespace.get(namespace.idFromName(`claims:${scope}`))
  return {
    claim: (scope, id, tag, ttl, now) =>
      call('claim', () => object(scope).claim(id, tag, ttl, now), true),
    swap: (scope, id, tag, next, ttl, now) =>
      call('swap', () => object(scope).swap(id, tag, next, ttl, now), true),
  }
}
