/**
 * The Redis keys of wxa-auth on Node, under one prefix (default `wxa:`). The
 * README's storage schema lists them. Every key of one user carries the hash
 * tag `{<uid>}`, so a transaction over them stays in one slot of a cluster.
 */
export const DEFAULT_PREFIX = 'wxa:'

/** The keys of one user: the session rows, the identity index, the profile, the outbox. */
export function userKeys(prefix: string, uid: string) {
  const user = `${prefix}{${encodeURIComponent(uid)}}`
  return {
    /** Hash: session id -> stored session (JSON), tombstones included. */
    sessions: `${user}:sessions`,
    /** Set: KV keys of the user's identities and unionid links. */
    identities: `${user}:identities`,
    /** String: the profile (JSON). */
    profile: `${user}:profile`,
    /** String: an operator's ban (JSON); expires a minute after its `until`, when it has one. */
    ban: `${user}:ban`,
    /**
     * Set: the outbox, objects (`avatar:<key>`) to delete, written in the step
     * that let go of them. Named `owed` by earlier versions: what they wrote still drains.
     */
    outbox: `${user}:owed`,
    /** String, for a millisecond: the write a read waits for replicas behind (`REDIS_WAIT_REPLICAS`). */
    fence: `${user}:fence`,
  }
}

export type UserKeys = ReturnType<typeof userKeys>

/**
 * Sorted set: users whose outbox is not empty, scored by when (ms), for the
 * sweeper. Named `owed` by earlier versions: what they wrote still drains.
 */
export const outboxIndexKey = (prefix: string) => `${prefix}owed`

/** A sealed record of the core (`identity:…`, `unionid:…`, `wx:access_token:…`). */
export const kvKey = (prefix: string, key: string) => `${prefix}${key}`

/** A claim: `claim:<scope>:<id>`. */
export const claimKey = (prefix: string, scope: string, id: string) =>
  `${prefix}claim:${scope}:${id}`

/** A rate-limit counter of one fixed window: `rl:<key>:<window>` (`rl:login:<address>:…`). */
export const rateKey = (prefix: string, key: string, window: number) =>
  `${prefix}rl:${key}:${window}`

/**
 * The directory's keys. A user's own (`{<uid>}:dir`, a hash of identities and
 * the phone hash; `{<uid>}:dir-gone`, the deletion mark) share the user's
 * slot; each lookup set sits in a slot of its own, its name encoded so that
 * no brace in an openid makes a hash tag.
 */
export function directoryKeys(prefix: string) {
  const user = (uid: string) => `${prefix}{${encodeURIComponent(uid)}}`
  return {
    /** Hash: `i<TAB>platform<TAB>appId<TAB>openid` -> `{ unionid?, updatedAt }`, `phone` -> `{ hash, updatedAt }`. */
    user: (uid: string) => `${user(uid)}:dir`,
    /** String, for `DIRECTORY_TOMBSTONE_SECONDS`: when the user was deleted (unix s). */
    gone: (uid: string) => `${user(uid)}:dir-gone`,
    /** Set of `platform<TAB>appId<TAB>uid`. */
    openid: (openid: string) => `${prefix}dir:openid:${encodeURIComponent(openid)}`,
    /** Set of uids. */
    unionid: (unionid: string) => `${prefix}dir:unionid:${encodeURIComponent(unionid)}`,
    /** Set of uids. */
    phone: (hash: string) => `${prefix}dir:phone:${encodeURIComponent(hash)}`,
  }
}

/**
 * The audit log's keys: a stream per UTC day (`audit:d:<yyyy-mm-dd>`), per
 * type and day (`audit:t:<type>:<yyyy-mm-dd>`) and per user (`{<uid>}:audit`),
 * each in a slot of its own; the days that have a stream
 * (`audit:days`, a sorted set by the day's start, ms) and the users whose
 * stream holds records (`audit:users`, by the oldest record's time), for the purge.
 */
export function auditKeys(prefix: string) {
  return {
    day: (day: string) => `${prefix}audit:d:${day}`,
    typeDay: (type: string, day: string) => `${prefix}audit:t:${type}:${day}`,
    user: (uid: string) => `${prefix}{${encodeURIComponent(uid)}}:audit`,
    days: `${prefix}audit:days`,
    users: `${prefix}audit:users`,
  }
}
