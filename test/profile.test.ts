// The profile a mini program gets since 2022: the nickname and the avatar the
// user fills in, kept by the user's session object, the avatar in R2, both
// checked by WeChat (the emulator), and WeChat's events acted on exactly.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { BuiltPush } from '../src/emulator/push'
import { defaultUserId } from '../src/hooks'
import type { AuthorizationEvent } from '../src/platforms/wechat/events'
import type { UserSessions } from '../src/runtime/cloudflare/object'
import {
  appWith,
  call,
  expectError,
  type Fetcher,
  login,
  newOpenid,
  type Reply,
  readAtEdge,
  testApp,
  testEnv,
  testIdentities,
  worker,
} from './helpers'
import { holds, jpeg, partsOf, png, webp } from './images'

const APP_ID = 'wx00000000emulator'
const sessionObject = (uid: string) => {
  const ns = testEnv.USER_SESSIONS as DurableObjectNamespace<UserSessions>
  return ns.get(ns.idFromName(uid))
}
const PNG = png
const JPEG = jpeg
const WEBP = webp

/** A real image whose pixel data holds `text` (the emulator calls `risky` images risky), padded by `pad` bytes. */
const image = (kind: typeof png, text = 'a fine picture', pad = 0) => kind(text, { pad })

/** `PUT /auth/profile` as wx.uploadFile sends it: multipart, the file `avatar`, the field `nickname`. */
async function upload(
  token: string,
  { avatar, nickname }: { avatar?: Uint8Array; nickname?: string },
  app: Fetcher = worker,
  method = 'POST',
): Promise<Reply> {
  const form = new FormData()
  if (avatar) form.append('avatar', new Blob([avatar]), 'tmp_avatar.png')
  if (nickname !== undefined) form.append('nickname', nickname)
  const res = await app.fetch('http://wxa.test/auth/profile', {
    method,
    headers: { Authorization: `JWT ${token}`, 'CF-Connecting-IP': '2001:db8:ff::1' },
    body: form,
  })
  const text = await res.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: res.status, headers: res.headers, body, text }
}

/** The avatar's bytes as the app serves them, or the status. */
async function fetchAvatar(url: string, app: Fetcher = worker) {
  const res = await app.fetch(url.replace(/^https?:\/\/[^/]+/, 'http://wxa.test'))
  return {
    status: res.status,
    headers: res.headers,
    bytes: new Uint8Array(await res.arrayBuffer()),
  }
}

/** WeChat's verdicts on the pending image checks, delivered to /wechat/events. */
const deliverChecks = () =>
  call<{ delivered: { suggest: string; status: number }[] }>('POST', '/__emulator/media-checks')

/** A push of `event` for `openid`, sent to the dev Worker as WeChat would. */
async function pushed(openid: string, event: string, extra: Record<string, unknown> = {}) {
  const res = await call<{ status: number; answer: string }>('POST', '/__emulator/events', {
    json: { openid, event, ...extra },
  })
  expect(res.body).toEqual({ status: 200, answer: 'success' })
}

let warn: ReturnType<typeof vi.spyOn>
beforeEach(() => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
})
afterEach(() => vi.restoreAllMocks())

describe('PUT /auth/profile', () => {
  it('takes what wx.uploadFile sends, stores it, and GET /auth/profile answers the same', async () => {
    const { token } = await login()
    const res = await upload(token, { avatar: image(PNG), nickname: '  小明  ' })
    expect(res.status, res.text).toBe(200)
    expect(res.body).toEqual({
      profile: {
        nickname: '小明',
        avatarUrl: expect.stringMatching(/\/auth\/avatars\/[\w-]{32}$/),
      },
    })
    const again = await call('GET', '/auth/profile', { token })
    expect(again.body).toEqual(res.body)
    expect(again.headers.get('cache-control')).toBe('no-store')
    const served = await fetchAvatar(res.body.profile.avatarUrl)
    expect(served.status).toBe(200)
    expect(served.bytes).toEqual(image(PNG))
    expect(served.headers.get('content-type')).toBe('image/png')
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(served.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('takes PUT as well, and a JSON body with the nickname alone', async () => {
    const { token } = await login()
    expect((await upload(token, { avatar: image(JPEG) }, worker, 'PUT')).status).toBe(200)
    const res = await call('PUT', '/auth/profile', { token, json: { nickname: 'Alice' } })
    expect(res.status, res.text).toBe(200)
    expect(res.body.profile).toEqual({ nickname: 'Alice', avatarUrl: expect.any(String) })
  })

  it('knows an image by its bytes: PNG, JPEG and WebP; anything else is 415 AVATAR_INVALID', async () => {
    const { token } = await login()
    for (const [magic, type] of [
      [PNG, 'image/png'],
      [JPEG, 'image/jpeg'],
      [WEBP, 'image/webp'],
    ] as const) {
      const res = await upload(token, { avatar: image(magic) })
      expect(res.status, res.text).toBe(200)
      expect((await fetchAvatar(res.body.profile.avatarUrl)).headers.get('content-type')).toBe(type)
    }
    for (const bytes of [
      new TextEncoder().encode('<svg onload="alert(1)"/>'),
      new TextEncoder().encode('GIF89a'),
      new Uint8Array([0x89, 0x50]),
    ]) {
      expectError(await upload(token, { avatar: bytes }), 415, 'AVATAR_INVALID')
    }
  })

  describe('an avatar is walked to its end and stored without metadata', () => {
    const TRAILER = new TextEncoder().encode('<?php system($_GET[1]); ?>')
    const withTrailer = (image: Uint8Array) => new Uint8Array([...image, ...TRAILER])

    it.each([
      ['PNG', png, ['IHDR', 'sRGB', 'IDAT', 'IEND']],
      ['JPEG', jpeg, ['E0', 'E2', 'EE', 'DB', 'C0', 'C4', 'DA', 'D9']],
      ['WebP', webp, ['VP8X', 'flags 0', 'VP8 ']],
    ])(
      '%s: EXIF with GPS, XMP, text and comments are stripped; the image still parses',
      async (_, kind, parts) => {
        const { token } = await login()
        const sent = kind('a fine picture', { meta: true })
        expect(holds(sent, 'GPS')).toBe(true)
        const res = await upload(token, { avatar: sent })
        expect(res.status, res.text).toBe(200)
        const stored = (await fetchAvatar(res.body.profile.avatarUrl)).bytes
        expect(partsOf(stored)).toEqual(parts)
        for (const trace of [
          'GPS',
          'Exif',
          'xmpmeta',
          'taken at home',
          'shot on a phone',
          'serial',
          'Beijing',
        ]) {
          expect(holds(stored, trace), trace).toBe(false)
        }
        expect(holds(stored, 'a fine picture')).toBe(true)
        expect(stored.length).toBeLessThan(sent.length)
      },
    )

    it.each([
      ['PNG', png],
      ['JPEG', jpeg],
      ['WebP', webp],
    ])('%s: bytes after the end marker are 415 AVATAR_INVALID, nothing stored', async (_, kind) => {
      const { token } = await login()
      expectError(await upload(token, { avatar: withTrailer(kind()) }), 415, 'AVATAR_INVALID')
      expect((await call('GET', '/auth/profile', { token })).body.profile.avatarUrl).toBeNull()
    })

    it('broken or truncated images are 415 AVATAR_INVALID', async () => {
      const { token } = await login()
      const badCrc = png()
      badCrc[30] = (badCrc[30] as number) ^ 1 // inside IHDR: its CRC no longer holds
      const riffTooShort = webp()
      riffTooShort[4] = (riffTooShort[4] as number) - 2
      const cases = [
        badCrc,
        png().subarray(0, -12), // no IEND
        jpeg().subarray(0, -2), // no EOI
        jpeg().subarray(0, 40), // cut inside a segment
        riffTooShort,
        webp().subarray(0, 30),
        // A JPEG with a scan but no frame header.
        new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0, 1, 2, 0xff, 0xd9]),
      ]
      for (const avatar of cases) {
        expectError(await upload(token, { avatar }), 415, 'AVATAR_INVALID')
      }
    })
  })

  it('refuses an avatar over 1 MiB with 413 AVATAR_TOO_LARGE, and the limit follows MAX_AVATAR_BYTES', async () => {
    const { token } = await login()
    expectError(
      await upload(token, { avatar: image(PNG, '', 1024 * 1024) }),
      413,
      'AVATAR_TOO_LARGE',
    )
    const small = appWith({ MAX_AVATAR_BYTES: '150' })
    const other = await login(undefined, small)
    expectError(
      await upload(other.token, { avatar: image(PNG, '', 200) }, small),
      413,
      'AVATAR_TOO_LARGE',
    )
    expect((await upload(other.token, { avatar: image(PNG, '', 50) }, small)).status).toBe(200)
  })

  it.each([
    ['empty', ''],
    ['spaces only', '   '],
    ['33 characters', 'a'.repeat(33)],
    ['a control character', 'a\u0007b'],
    ['a C1 control character', 'a\u0085b'],
    ['a line break', 'a\nb'],
    ['a right-to-left override', 'abc\u202Egpj.exe'],
    ['a left-to-right embedding', '\u202Aadmin'],
    ['a bidi isolate', 'a\u2067b\u2069'],
    ['a right-to-left mark', 'admin\u200F'],
    ['an Arabic letter mark', 'a\u061Cb'],
    ['zero-width characters only', '\u200B\u200C\u200D\u2060\uFEFF'],
    ['Hangul fillers only', '\u3164\u3164'],
    ['Hangul choseong and jungseong fillers only', '\u115F\u1160'],
    ['a Unicode tag character', 'flag\u{E0067}\u{E0062}'],
    ['33 graphemes', '👍'.repeat(33)],
  ])(
    'refuses a nickname that is %s with 422 NICKNAME_INVALID, storing nothing',
    async (_w, nickname) => {
      const { token } = await login()
      expectError(await upload(token, { nickname, avatar: image(PNG) }), 422, 'NICKNAME_INVALID')
      expect((await call('GET', '/auth/profile', { token })).body.profile).toEqual({
        nickname: null,
        avatarUrl: null,
      })
    },
  )

  it('counts characters, not bytes: 32 CJK characters are fine', async () => {
    const { token } = await login()
    const res = await upload(token, { nickname: '微'.repeat(32) })
    expect(res.status, res.text).toBe(200)
  })

  it('counts graphemes: 32 family emoji (ZWJ sequences) are 32 characters, and fine', async () => {
    const { token } = await login()
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}'
    const res = await upload(token, { nickname: family.repeat(32) })
    expect(res.status, res.text).toBe(200)
    expect(res.body.profile.nickname).toBe(family.repeat(32))
    // A flag (two regional indicators) and a skin tone are one grapheme each.
    const json = await call('PUT', '/auth/profile', {
      token,
      json: { nickname: `🇨🇳👍🏽${'x'.repeat(30)}` },
    })
    expect(json.status, json.text).toBe(200)
  })

  it('stores the nickname NFC-normalised', async () => {
    const { token } = await login()
    // "é" as e and a combining acute accent (NFD) becomes the one character U+00E9.
    const res = await call('PUT', '/auth/profile', { token, json: { nickname: 'Rene\u0301e' } })
    expect(res.status, res.text).toBe(200)
    expect(res.body.profile.nickname).toBe('Ren\u00E9e')
    expect((await call('GET', '/auth/profile', { token })).body.profile.nickname).toBe('Ren\u00E9e')
  })

  it('a nickname WeChat calls risky is 422 NICKNAME_RISKY; review is kept and logged', async () => {
    const { token } = await login()
    expectError(await upload(token, { nickname: 'a risky name' }), 422, 'NICKNAME_RISKY')
    const kept = await upload(token, { nickname: 'needs review' })
    expect(kept.body.profile.nickname).toBe('needs review')
    expect(warn.mock.calls.flat().join('\n')).toMatch(/reviewed/)
  })

  it('needs a login, and something to set', async () => {
    expectError(await call('GET', '/auth/profile'), 401, 'AUTH_REQUIRED')
    const { token } = await login()
    expectError(await upload(token, {}), 400, 'INVALID_REQUEST')
    expectError(
      await call('PUT', '/auth/profile', { token, json: { nickname: 7 } }),
      400,
      'INVALID_REQUEST',
    )
  })

  it('without an AVATARS binding an avatar is 400 NOT_OFFERED; a nickname still works', async () => {
    const bare = appWith({ AVATARS: undefined })
    const { token } = await login(undefined, bare)
    expectError(await upload(token, { avatar: image(PNG) }, bare), 400, 'NOT_OFFERED')
    expect((await upload(token, { nickname: 'Bob' }, bare)).status).toBe(200)
  })
})

describe('avatars', () => {
  it('a new avatar deletes the old one: its URL answers 404', async () => {
    const { token } = await login()
    const first = (await upload(token, { avatar: image(PNG) })).body.profile.avatarUrl
    const second = (await upload(token, { avatar: image(JPEG) })).body.profile.avatarUrl
    expect(second).not.toBe(first)
    expect((await fetchAvatar(first)).status).toBe(404)
    expect((await fetchAvatar(second)).status).toBe(200)
  })

  it('an unknown or malformed key is 404', async () => {
    for (const key of ['x'.repeat(32), '..%2F..%2Fetc', 'a']) {
      expectError(await call('GET', `/auth/avatars/${key}`), 404, 'NOT_FOUND')
    }
  })

  it('WeChat checks it at its own URL; a risky verdict by push deletes it, a pass keeps it', async () => {
    const { token } = await login()
    const risky = (await upload(token, { avatar: image(PNG, 'this one is risky') })).body.profile
    expect((await fetchAvatar(risky.avatarUrl)).status).toBe(200) // served until the verdict
    const { body } = await deliverChecks()
    expect(body.delivered).toEqual(
      expect.arrayContaining([expect.objectContaining({ suggest: 'risky', status: 200 })]),
    )
    expect((await fetchAvatar(risky.avatarUrl)).status).toBe(404)
    expect((await call('GET', '/auth/profile', { token })).body.profile.avatarUrl).toBeNull()

    const fine = (await upload(token, { avatar: image(PNG) })).body.profile
    await deliverChecks()
    expect((await fetchAvatar(fine.avatarUrl)).status).toBe(200)
  })

  it('a late verdict on a replaced avatar leaves the new one alone', async () => {
    const { token } = await login()
    await upload(token, { avatar: image(PNG, 'risky') })
    const newer = (await upload(token, { avatar: image(PNG) })).body.profile
    await deliverChecks()
    expect((await call('GET', '/auth/profile', { token })).body.profile.avatarUrl).toBe(
      newer.avatarUrl,
    )
  })
})

describe('the profile outlives the sessions', () => {
  it('the last logout and the object’s cleanup leave the profile and the avatar', async () => {
    const alice = await login(newOpenid('keep'))
    const { profile } = (await upload(alice.token, { avatar: image(PNG), nickname: 'Alice' })).body
    expect((await call('POST', '/auth/logout', { token: alice.token })).status).toBe(200)
    const uid = await defaultUserId(APP_ID, alice.openid)
    const object = sessionObject(uid)
    // As if the object had been empty for longer than its grace: then it deletes its storage.
    await runInDurableObject(object, (_instance, state) => {
      state.storage.sql.exec(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('emptied', ?)",
        String(Date.now() - 60 * 60 * 1000),
      )
    })
    await runDurableObjectAlarm(object)
    const back = await login(alice.openid)
    expect((await call('GET', '/auth/profile', { token: back.token })).body.profile).toEqual(
      profile,
    )
    expect((await fetchAvatar(profile.avatarUrl)).status).toBe(200)
  })
})

describe('WeChat’s events, acted on exactly', () => {
  /** A user with a nickname and an avatar, and a second device. */
  async function withProfile() {
    const alice = await login(newOpenid('pr'))
    const other = await login(alice.openid)
    const profile = (await upload(alice.token, { avatar: image(PNG), nickname: 'Alice' })).body
      .profile
    await deliverChecks()
    return { ...alice, other, profile }
  }
  const profileOf = async (token: string) =>
    (await call('GET', '/auth/profile', { token })).body.profile

  it.each([
    ['6', { nickname: null, avatar: false }],
    ['19', { nickname: null, avatar: true }],
    ['20', { nickname: 'Alice', avatar: false }],
    ['4', { nickname: 'Alice', avatar: true }],
    ['13', { nickname: 'Alice', avatar: true }],
    ['8', { nickname: 'Alice', avatar: true }],
  ])('RevokeInfo %s deletes what it names and ends no session', async (code, kept) => {
    const alice = await withProfile()
    await pushed(alice.openid, 'user_authorization_revoke', { revokeInfo: code })
    const now = await profileOf(alice.token)
    expect(now.nickname).toBe(kept.nickname)
    expect(now.avatarUrl !== null).toBe(kept.avatar)
    expect((await fetchAvatar(alice.profile.avatarUrl)).status).toBe(kept.avatar ? 200 : 404)
    for (const token of [alice.token, alice.other.token]) {
      expect((await call('GET', '/me', { token })).status).toBe(200)
    }
    expect(await testIdentities().get(APP_ID, alice.openid, 'wechat')).not.toBeNull()
  })

  it('user_info_modified clears the nickname and the avatar; the sessions stay', async () => {
    const alice = await withProfile()
    await pushed(alice.openid, 'user_info_modified')
    expect(await profileOf(alice.token)).toEqual({ nickname: null, avatarUrl: null })
    expect((await fetchAvatar(alice.profile.avatarUrl)).status).toBe(404)
    expect((await call('GET', '/me', { token: alice.token })).status).toBe(200)
  })

  it('a cancellation takes the profile and the avatar with the sessions and identities', async () => {
    const alice = await withProfile()
    await pushed(alice.openid, 'user_authorization_cancellation')
    expectError(await call('GET', '/me', { token: alice.token }), 401, 'SESSION_EXPIRED')
    expect((await fetchAvatar(alice.profile.avatarUrl)).status).toBe(404)
    const back = await login(alice.openid)
    expect(await profileOf(back.token)).toEqual({ nickname: null, avatarUrl: null })
  })

  it('DELETE /auth/account takes them too', async () => {
    const alice = await withProfile()
    const code = (
      await call<{ code: string }>('POST', '/__emulator/code', { json: { openid: alice.openid } })
    ).body.code
    expect(
      (await call('DELETE', '/auth/account', { token: alice.token, json: { code } })).status,
    ).toBe(200)
    expect((await fetchAvatar(alice.profile.avatarUrl)).status).toBe(404)
  })

  it('every code reaches onAuthorizationRevoked, 8 onPhoneNumberRevoked first', async () => {
    const events: (AuthorizationEvent & { hook: string })[] = []
    const hooked = testApp({
      onAuthorizationRevoked: (e: AuthorizationEvent) =>
        void events.push({ ...e, hook: 'revoked' }),
      onPhoneNumberRevoked: (e: AuthorizationEvent) => void events.push({ ...e, hook: 'phone' }),
    })
    const env = { ...testEnv, WECHAT_EVENT_AES_KEY: undefined }
    const alice = await login(newOpenid('pr'))
    for (const revokeInfo of ['8', '4', '6']) {
      const built = await call<BuiltPush>('POST', '/__emulator/push', {
        json: { openid: alice.openid, revokeInfo },
      })
      const res = await hooked.request(
        `/wechat/events?${built.body.query}`,
        {
          method: 'POST',
          body: built.body.body,
          headers: { 'Content-Type': built.body.contentType },
        },
        env,
      )
      expect(res.status).toBe(200)
    }
    expect(events.map((e) => [e.hook, e.revokeInfo, e.deleted, e.sessionsEnded])).toEqual([
      ['phone', '8', [], 0],
      ['revoked', '8', [], 0],
      ['revoked', '4', [], 0],
      ['revoked', '6', ['nickname', 'avatar'], 0],
    ])
  })
})

describe('an avatar whose profile change fails', () => {
  /** USER_SESSIONS whose objects fail every call with `error`. */
  const failing = (error: () => Error) =>
    ({
      idFromName: (name: string) => testEnv.USER_SESSIONS?.idFromName(name),
      get: () => new Proxy({}, { get: () => () => Promise.reject(error()) }),
    }) as unknown as DurableObjectNamespace<UserSessions>
  const stored = async () => (await (testEnv.AVATARS as R2Bucket).list()).objects.length

  it('refused or not reached: a 503, and the avatar it stored is deleted', async () => {
    const { token } = await login()
    const overloaded = () =>
      Object.assign(new Error('Durable Object is overloaded. Requests queued for too long.'), {
        overloaded: true,
      })
    const before = await stored()
    const down = appWith({ USER_SESSIONS: failing(overloaded) })
    expectError(await upload(token, { avatar: image(PNG) }, down), 503, 'STORAGE_UNAVAILABLE')
    expect(await stored()).toBe(before)
  })

  it('outcome unknown: a 503, and the avatar stays (the profile may hold it now)', async () => {
    const { token } = await login()
    // The session is read from KV: the failing link is the change's, not the read's.
    await readAtEdge(token)
    const before = await stored()
    const reset = appWith({ USER_SESSIONS: failing(() => new Error('Network connection lost.')) })
    expectError(await upload(token, { avatar: image(PNG) }, reset), 503, 'STORAGE_OUTCOME_UNKNOWN')
    expect(await stored()).toBe(before + 1)
  })
})
