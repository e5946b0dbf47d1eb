// A session record and a policy for the tests that call the Redis adapters
// directly, and a log that says nothing.
import type { SessionPolicy, SessionRecord } from '../../src/session/record'

export const POLICY: SessionPolicy = {
  ttl: 3600,
  maxAge: 7200,
  maxBytes: 1024,
  maxSessions: 3,
  grace: 30,
}
export const quiet = { error: () => {}, warn: () => {} }

/** A fresh session of `uid`, made at `at` (seconds). */
export const sessionRecord = (uid: string, at: number): SessionRecord => ({
  v: 1,
  uid,
  appId: 'wxapp',
  openid: `o-${uid}`,
  createdAt: at,
  createdAtMs: at * 1000,
  refreshedAt: at,
  expiresAt: at + POLICY.ttl,
  gen: 0,
  data: {},
})
