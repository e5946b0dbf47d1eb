import type { ClaimStore } from '../../session/authority'

/** A {@link ClaimStore} in this process's memory: atomic, since JavaScript runs one step at a time. */
export function memoryClaims(): ClaimStore {
  const claims = new Map<string, { tag: string; until: number }>()
  const held = (key: string, now: number) => {
    const claim = claims.get(key)
    return claim && claim.until > now ? claim : undefined
  }
  return {
    async claim(scope, id, tag, ttl, now) {
      const key = `${scope}\n${id}`
      const prior = held(key, now)
      if (prior) return prior.tag
      claims.set(key, { tag, until: now + ttl })
      return null
    },
    async swap(scope, id, tag, next, ttl, now) {
      const key = `${scope}\n${id}`
      if (held(key, now)?.tag !== tag) return false
      if (next === null) claims.delete(key)
      else claims.set(key, { tag: next, until: now + ttl })
      return true
    },
  }
}
