import { afterEach, describe, expect, it } from 'vitest'
import { createWebClient, type StorageLike, webAdapter } from '../src/web'
import { baseUrl, rejection } from './helpers'

// wxa-auth/web against the running Worker from Node: fetch is Node's, the
// storage a Map, and `location` / `history` a page's address where a test
// needs one. test/http/web-client.test.ts runs it in Chromium.

/** A localStorage of its own. */
function storage(): StorageLike & { map: Map<string, string> } {
  const map = new Map<string, string>()
  return {
    map,
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    removeItem: (key) => void map.delete(key),
  }
}

const page = globalThis as unknown as Record<string, unknown>
afterEach(() => {
  delete page.location
  delete page.history
})

/** The address `search` of a page, and what it was replaced with. */
function address(search: string) {
  const replaced: string[] = []
  page.location = {
    href: `https://h5.example.com/back${search}`,
    search,
    hash: '',
    pathname: '/back',
  }
  page.history = {
    state: null,
    replaceState: (_: unknown, __: string, url: string) => replaced.push(url),
  }
  return replaced
}

describe('wxa-auth/web', () => {
  it('has no silent login: login() and a request without a session are LOGIN_REQUIRED', async () => {
    const api = createWebClient({ baseUrl, storage: storage() })
    const error = await rejection(api.login())
    expect(error.code).toBe('LOGIN_REQUIRED')
    expect(error.message).toMatch(/authorize\(\)/)
    expect((await rejection(api.request({ url: '/me' }))).code).toBe('LOGIN_REQUIRED')
    expect(api.session()).toBeNull()
  })

  it('needs fetch and localStorage, or them given', () => {
    if (!('localStorage' in globalThis)) expect(() => webAdapter()).toThrow(/localStorage/)
    expect(() => webAdapter({ storage: storage() })).not.toThrow()
  })

  it('completeLogin posts the address’s code, keeps the session, and takes the code out of the address', async () => {
    const apps = (await (await fetch(`${baseUrl}/__emulator/oauth/apps`)).json()) as {
      mobile: string
    }
    // A code of the mobile app (no state needed there), as the page would get it back.
    const res = await fetch(`${baseUrl}/__emulator/oauth/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appId: apps.mobile, openid: `web-${Date.now()}` }),
    })
    const { code } = (await res.json()) as { code: string }
    const replaced = address(`?tab=2&code=${code}&appId=${apps.mobile}`)
    const kept = storage()
    const api = createWebClient<{ id: string }>({ baseUrl, storage: kept })
    const session = await api.completeLogin()
    expect(replaced).toEqual([`/back?tab=2&appId=${apps.mobile}`])
    expect(session?.refreshToken).toEqual(expect.any(String))
    expect(api.session()?.token).toBe(session?.token)
    const me = await api.request<{ user: { id: string } }>({ url: '/me' })
    expect(me.data.user.id).toBe(session?.user.id)
    // No code in the address: nothing to do.
    address('?tab=2')
    expect(await api.completeLogin()).toBeNull()
  })

  it('completeLogin with a code refused rejects with the server’s code and keeps nothing', async () => {
    address('?code=nope&state=nope&appId=wx0000000emuoa001')
    const kept = storage()
    const api = createWebClient({ baseUrl, storage: kept })
    const error = await rejection(api.completeLogin())
    expect(error.code).toBe('STATE_INVALID')
    expect(kept.map.size).toBe(0)
  })

  it('scanLogin stops when its signal aborts', async () => {
    const api = createWebClient({ baseUrl, storage: storage() })
    const stop = new AbortController()
    const shown: string[] = []
    const scan = api.scanLogin({
      intervalMs: 200,
      signal: stop.signal,
      onCode: (qrcode) => {
        shown.push(qrcode.slice(0, 11))
        setTimeout(() => stop.abort(new Error('closed')), 50)
      },
    })
    await expect(scan).rejects.toThrow('closed')
    expect(shown).toEqual(['data:image/'])
  })
})
