// The claim on a push event (M-5), on the in-memory claim store: the same
// calls the Durable Object and Redis answer. A delivery holds the event for
// its lease; a run that dies without a word lets the next one take it after
// the lease; a late `done` of a run whose lease was taken over changes nothing.
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_PUSH_CLAIM_TTL,
  DEFAULT_PUSH_LEASE,
  pushClaims,
} from '../../src/platforms/wechat/push-claims'
import { memoryClaims } from '../../src/runtime/memory/claims'

const NOW = 1_800_000_000
const EVENT = ['wx00000000emulator', 'user_authorization_cancellation', 'o-1', String(NOW)]

describe('pushClaims: each event claimed before it is acted on', () => {
  it('busy while held; done for the replay window once done', async () => {
    const claims = pushClaims(memoryClaims(), { secret: 'token' })
    const first = await claims.claim(EVENT, NOW)
    expect(first.state).toBe('ours')
    expect((await claims.claim(EVENT, NOW + 1)).state).toBe('busy')
    if (first.state === 'ours') await first.done(NOW + 2)
    expect((await claims.claim(EVENT, NOW + 3)).state).toBe('done')
    expect((await claims.claim(EVENT, NOW + 2 + DEFAULT_PUSH_CLAIM_TTL - 1)).state).toBe('done')
  })

  it('a released claim is free again: the retry acts', async () => {
    const claims = pushClaims(memoryClaims(), { secret: 'token' })
    const first = await claims.claim(EVENT, NOW)
    if (first.state === 'ours') await first.release(NOW + 1)
    expect((await claims.claim(EVENT, NOW + 2)).state).toBe('ours')
  })

  it('a run that died is taken over after the lease; its late done changes nothing', async () => {
    const claims = pushClaims(memoryClaims(), { secret: 'token' })
    const dead = await claims.claim(EVENT, NOW)
    expect((await claims.claim(EVENT, NOW + DEFAULT_PUSH_LEASE - 1)).state).toBe('busy')
    const next = await claims.claim(EVENT, NOW + DEFAULT_PUSH_LEASE)
    expect(next.state).toBe('ours')
    if (dead.state === 'ours') {
      await dead.release(NOW + DEFAULT_PUSH_LEASE + 1)
      await dead.done(NOW + DEFAULT_PUSH_LEASE + 1)
    }
    expect((await claims.claim(EVENT, NOW + DEFAULT_PUSH_LEASE + 2)).state).toBe('busy')
  })
})
