// A leaf: the platforms' push claims use it without reaching the session rules.

/**
 * Atomic claims of ids (a WeChat push query, an event being or already acted on), per
 * scope (an app). `claim` answers null when `id` was free and is now
 * claimed with `tag`, or the tag it already carries.
 */
export interface ClaimStore {
  claim(scope: string, id: string, tag: string, ttl: number, now: number): Promise<string | null>
  /**
   * While `id` carries `tag`, atomically gives it `next` for `ttl` seconds,
   * or frees it (`next` null); true when it did.
   */
  swap(
    scope: string,
    id: string,
    tag: string,
    next: string | null,
    ttl: number,
    now: number,
  ): Promise<boolean>
}
