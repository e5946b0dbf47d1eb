import { describe, expect, it } from 'vitest'
import { isWxaAuthError } from '../src/errors'
import { signToken, verifyToken } from '../src/token/jwt'
import { importKeyRing } from '../src/token/keys'
import { BoundedMap } from '../src/util/bounded-map'

const SECRET = 'cache-Zr8kQ2vN5xW1pL7tY4mB9cH3fJ6dG0sE'
const options = (now: number) => ({ issuer: 'wxa-auth', audience: 'wxtest', now })

async function code(promise: Promise<unknown>) {
  try {
    await promise
    return 'ok'
  } catch (err) {
    return isWxaAuthError(err) ? err.code : String(err)
  }
}

describe('the verified-token cache', () => {
  it('never accepts a token past exp, although it verified it before', async () => {
    const ring = await importKeyRing([{ kid: 'k', secret: SECRET }])
    const token = await signToken(ring, { sub: 'u', sid: 's', exp: 2_000 }, options(1_000))
    expect(await code(verifyToken(ring, token, options(1_000)))).toBe('ok')
    expect(await code(verifyToken(ring, token, options(1_999)))).toBe('ok')
    expect(await code(verifyToken(ring, token, options(2_010)))).toBe('TOKEN_EXPIRED')
  })

  it('is per key ring: a ring without the key rejects what another verified', async () => {
    const old = await importKeyRing([{ kid: 'old', secret: SECRET }])
    const token = await signToken(old, { sub: 'u', sid: 's', exp: 2_000 }, options(1_000))
    expect(await code(verifyToken(old, token, options(1_000)))).toBe('ok')
    const rotated = await importKeyRing([{ kid: 'new', secret: `${SECRET}-new` }])
    expect(await code(verifyToken(rotated, token, options(1_000)))).toBe('TOKEN_INVALID')
  })

  it('is per issuer and audience', async () => {
    const ring = await importKeyRing([{ kid: 'k', secret: SECRET }])
    const token = await signToken(ring, { sub: 'u', sid: 's', exp: 2_000 }, options(1_000))
    expect(await code(verifyToken(ring, token, options(1_000)))).toBe('ok')
    expect(await code(verifyToken(ring, token, { ...options(1_000), audience: 'other' }))).toBe(
      'TOKEN_INVALID',
    )
  })

  it('hands out frozen claims', async () => {
    const ring = await importKeyRing([{ kid: 'k', secret: SECRET }])
    const token = await signToken(ring, { sub: 'u', sid: 's', exp: 2_000 }, options(1_000))
    expect(Object.isFrozen(await verifyToken(ring, token, options(1_000)))).toBe(true)
  })
})

describe('BoundedMap', () => {
  it('keeps at most its limit, forgetting the least recently set first', () => {
    const map = new BoundedMap<number, number>(3)
    for (let i = 0; i < 5; i++) map.set(i, i)
    expect(map.size).toBe(3)
    expect([map.get(0), map.get(1), map.get(2), map.get(4)]).toEqual([undefined, undefined, 2, 4])
    map.set(2, 20) // refreshed: now the newest
    map.set(5, 5)
    expect([map.get(2), map.get(3)]).toEqual([20, undefined])
  })
})
