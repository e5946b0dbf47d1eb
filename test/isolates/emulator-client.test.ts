// emulatorClient over HTTP, as tests in Node use it against `wrangler dev`:
// the URL forms the README shows, against the bundled dev Worker served by
// Miniflare on a local port. (The env and fetcher forms run inside workerd:
// test/testing.test.ts.)
import { randomBytes } from 'node:crypto'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmulatorTarget, emulatorClient, loginCode } from '../../src/testing-client'
import { bundle } from './harness'

let mf: Miniflare
let base: string

beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: await bundle(),
    compatibilityDate: '2026-07-30',
    kvNamespaces: { SESSIONS: 'wxa-auth-sessions' },
    durableObjects: {
      USER_SESSIONS: { className: 'UserSessions', useSQLite: true },
      WECHAT_EMULATOR: { className: 'WeChatEmulator', useSQLite: true },
    },
    bindings: {
      JWT_SECRET: randomBytes(32).toString('base64url'),
      STORAGE_SECRET: randomBytes(32).toString('base64url'),
      WECHAT_APP_ID: 'wx00000000emulator',
    },
    cf: false,
  })
  base = (await mf.ready).origin
}, 60_000)
afterAll(() => mf?.dispose())

async function logIn(code: string) {
  const res = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code }),
  })
  return res.status
}

describe('emulatorClient over HTTP', () => {
  it('takes { url }, a base URL string (with or without a trailing slash) and a URL', async () => {
    const forms: [string, EmulatorTarget][] = [
      ['{ url }', { url: base }],
      ['{ url: URL }', { url: new URL(base) }],
      ['string', base],
      ['string/', `${base}/`],
      ['URL', new URL(base)],
    ]
    for (const [name, target] of forms) {
      const openid = `url-${name.replace(/\W/g, '')}-${Date.now()}`
      const wechat = emulatorClient(target)
      expect(await logIn(await wechat.loginCode(openid)), name).toBe(200)
      expect(await wechat.getUser(openid), name).toMatchObject({ openid, calls: 1 })
      expect(await logIn(await loginCode(target, openid)), name).toBe(200)
    }
  })
})
