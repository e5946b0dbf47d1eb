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
