import { describe, expect, it, vi } from 'vitest'
import { WxaAuthError } from '../src/errors'
import { accessTokenCache } from '../src/platforms/wechat/access-token'
import type { StableToken } from '../src/platforms/wechat/client'
import { workersKv } from '../src/runtime/cloudflare/kv'
import { accessTokenKey } from '../src/storage/keys'
import { sealedKv } from '../src/storage/sealed-kv'
import { kvKeys, openKv, testCipher, testEnv } from './helpers'

/**
 * A WeChat that hands out numbered tokens, each after a tick so concurrent
 * callers overlap. The cache under test is real, and so is its KV.
 */
function tokenSource(expiresIn = 7200) {
  let calls = 0
  return {
    wechat: {
      async stableToken(): Promise<StableToken> {
        calls++
        await new Promise((resolve) => setTimeout(resolve, 10))
        return { accessToken: `token-${calls}`, expiresIn }
      },
    },
    calls: () => calls,
  }
}

const newAppId = () => `wxunit${crypto.randomUUID().slice(0, 8)}`
const rejected = () => new WxaAuthError('ACCESS_TOKEN_INVALID')

describe('accessTokenCache', () => {
  it('fetches once for many concurrent callers and caches in KV below expires_in', async () => {
    const { wechat, calls } = tokenSource()
    const appId = newAppId()
    const cache = accessTokenCache({
      kv: sealedKv(workersKv(testEnv.SESSIONS), testCipher()),
      wechat,
      appId,
      now: () => 1_000,
    })
    const tokens = await Promise.all(
      Array.from({ length: 5 }, () => cache.withToken(async (t) => t)),
    )
    expect(tokens).toEqual(Array(5).fill('token-1'))
    expect(calls()).toBe(1)
    expect(await openKv(accessTokenKey(appId))).toEqual({
      v: 1,
      accessToken: 'token-1',
      expiresAt: 1_000 + 7200 - 300,
    })
    // Another isolate (a fresh cache object) reads KV instead of calling WeChat.
    const other = accessTokenCache({
      kv: sealedKv(workersKv(testEnv.SESSIONS), testCipher()),
      wechat,
      appId,
      now: () => 1_000,
    })
    expect(await other.withToken(async (t) => t)).toBe('token-1')
    expect(calls()).toBe(1)
  })

  it('drops a rejected token, fetches a fresh one and retries once', async () => {
    const { wechat, calls } = tokenSource()
    const cache = accessTokenCache({
      kv: sealedKv(workersKv(testEnv.SESSIONS), testCipher()),
      wechat,
      appId: newAppId(),
    })
    await cache.withToken(async (t) => t)
    const used: string[] = []
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const result = await cache.withToken(async (t) => {
      used.push(t)
      if (t === 'token-1') throw rejected()
      return 'ok'
    })
    warn.mockRestore()
    expect(result).toBe('ok')
    expect(used).toEqual(['token-1', 'token-2'])
    expect(calls()).toBe(2)
  })

  it('gives up after the one retry, and passes other errors straight through', async () => {
    const { wechat, calls } = tokenSource()
    const cache = accessTokenCache({
      kv: sealedKv(workersKv(testEnv.SESSIONS), testCipher()),
      wechat,
      appId: newAppId(),
    })
    let attempts = 0
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    await expect(
      cache.withToken(async () => {
        attempts++
        throw rejected()
      }),
    ).rejects.toMatchObject({ code: 'ACCESS_TOKEN_INVALID' })
    warn.mockRestore()
    expect(attempts).toBe(2)
    expect(calls()).toBe(2)

    attempts = 0
    await expect(
      cache.withToken(async () => {
        attempts++
        throw new WxaAuthError('PHONE_CODE_INVALID')
      }),
    ).rejects.toMatchObject({ code: 'PHONE_CODE_INVALID' })
    expect(attempts).toBe(1)
  })

  it('does not cache a token too close to its expiry, and ignores an expired entry', async () => {
    const short = tokenSource(300 + 30)
    const appId = newAppId()
    const cache = accessTokenCache({
      kv: sealedKv(workersKv(testEnv.SESSIONS), testCipher()),
      wechat: short.wechat,
      appId,
    })
    expect(await cache.withToken(async (t) => t)).toBe('token-1')
    expect(await kvKeys(accessTokenKey(appId))).toEqual([])

    const { wechat, calls } = tokenSource()
    let time = 1_000
    const timed = accessTokenCache({
      kv: sealedKv(workersKv(testEnv.SESSIONS), testCipher()),
      wechat,
      appId,
      now: () => time,
    })
    await timed.withToken(async (t) => t)
    time += 7200 - 300
    expect(await timed.withToken(async (t) => t)).toBe('token-2')
    expect(calls()).toBe(2)
  })
})
