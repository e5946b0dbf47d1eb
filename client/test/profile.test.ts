import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { png } from '../../test/images'
import { type PrivacyApi, privacyError, WxaClientError, withPrivacy } from '../src'
import { endSession } from './device'
import { baseUrl, miniProgram, rejection } from './helpers'

/** What `<button open-type="chooseAvatar">` leaves: a temporary file on disk. */
async function chosenAvatar(text = 'an avatar') {
  const bytes = png(text)
  const path = join(await mkdtemp(join(tmpdir(), 'wxa-avatar-')), 'tmp_avatar.png')
  await writeFile(path, bytes)
  return { path, bytes }
}

describe('setProfile and profile', () => {
  it('uploads the avatar with the nickname; the avatar is served with its bytes', async () => {
    const { api, trail } = miniProgram()
    const avatar = await chosenAvatar()
    const profile = await api.setProfile({ avatarPath: avatar.path, nickname: ' 小明 ' })
    expect(profile.nickname).toBe('小明')
    expect(profile.avatarUrl).toMatch(new RegExp(`^${baseUrl}/auth/avatars/[A-Za-z0-9_-]{20,}$`))
    const served = await fetch(profile.avatarUrl as string)
    expect(served.headers.get('content-type')).toBe('image/png')
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(avatar.bytes)
    expect(await api.profile()).toEqual(profile)
    expect(trail()).toEqual([
      'POST /auth/login 200',
      'POST /auth/profile 200',
      'GET /auth/profile 200',
    ])
  })

  it('a nickname alone goes as JSON with PUT; the avatar stays', async () => {
    const { api, phone } = miniProgram()
    const first = await api.setProfile({ avatarPath: (await chosenAvatar()).path })
    const renamed = await api.setProfile({ nickname: 'Ada' })
    expect(renamed).toEqual({ nickname: 'Ada', avatarUrl: first.avatarUrl })
    expect(phone.state.sent.at(-1)).toMatchObject({ kind: 'request', method: 'PUT' })
  })

  it('refusals carry the server codes', async () => {
    const { api } = miniProgram()
    expect((await rejection(api.setProfile({ nickname: 'a risky name' }))).code).toBe(
      'NICKNAME_RISKY',
    )
    expect((await rejection(api.setProfile({ nickname: '   ' }))).code).toBe('NICKNAME_INVALID')
    const notImage = join(await mkdtemp(join(tmpdir(), 'wxa-avatar-')), 'tmp.png')
    await writeFile(notImage, 'GIF89a, not a kind we keep')
    const error = await rejection(api.setProfile({ avatarPath: notImage }))
    expect([error.code, error.status]).toEqual(['AVATAR_INVALID', 415])
    expect(await api.profile()).toEqual({ nickname: null, avatarUrl: null })
    await expect(api.setProfile({})).rejects.toThrow(TypeError)
  })

  it('an upload answered 401 logs in again and is sent once more', async () => {
    const { api, clock, trail } = miniProgram()
    const { token } = await api.login()
    await endSession(baseUrl, token)
    clock.advance(11_000)
    const profile = await api.setProfile({ avatarPath: (await chosenAvatar()).path })
    expect(profile.avatarUrl).not.toBeNull()
    expect(trail()).toEqual([
      'POST /auth/login 200',
      'POST /auth/profile 401',
      'POST /auth/refresh 401',
      'POST /auth/login 200',
      'POST /auth/profile 200',
    ])
  })

  it('a risky avatar is deleted when the check result arrives by push', async () => {
    const { api } = miniProgram()
    const { avatarUrl } = await api.setProfile({
      avatarPath: (await chosenAvatar('something risky')).path,
      nickname: 'Bo',
    })
    // Served until the result: WeChat checks within 30 minutes.
    expect((await fetch(avatarUrl as string)).status).toBe(200)
    await fetch(`${baseUrl}/__emulator/media-checks`, { method: 'POST' })
    expect(await api.profile()).toEqual({ nickname: 'Bo', avatarUrl: null })
    expect((await fetch(avatarUrl as string)).status).toBe(404)
  })
})

/** `wx.requirePrivacyAuthorize` as WeChat calls back: the user agrees or not. */
function privacyPrompt(agrees: boolean) {
  const prompt = {
    asked: 0,
    api: {
      requirePrivacyAuthorize({ success, fail }) {
        prompt.asked++
        setTimeout(() =>
          agrees ? success?.() : fail?.({ errMsg: 'requirePrivacyAuthorize:fail' }),
        )
      },
    } satisfies PrivacyApi,
  }
  return prompt
}

/** A privacy API that fails with `errno` until `agreed()` says otherwise. */
function privacyCall(errno: number, agreed: () => boolean) {
  const call = {
    calls: 0,
    run: async () => {
      call.calls++
      if (!agreed()) throw { errno, errMsg: `getLocation:fail privacy errno ${errno}` }
      return 'located'
    },
  }
  return call
}

describe('privacy errors', () => {
  it('errno 104 and 112 are their own codes; other failures are not privacy errors', () => {
    expect(privacyError({ errno: 104, errMsg: 'x' })?.code).toBe('PRIVACY_NOT_AGREED')
    expect(privacyError({ errno: 112, errMsg: 'x' })?.code).toBe('PRIVACY_SCOPE_MISSING')
    expect(privacyError({ errno: 1, errMsg: 'getLocation:fail auth deny' })).toBeUndefined()
    expect(privacyError(undefined)).toBeUndefined()
  })

  it('withPrivacy asks once on 104 and retries after the user agrees', async () => {
    const prompt = privacyPrompt(true)
    const call = privacyCall(104, () => prompt.asked > 0)
    expect(await withPrivacy(call.run, prompt.api)).toBe('located')
    expect([prompt.asked, call.calls]).toEqual([1, 2])
  })

  it('withPrivacy rejects PRIVACY_NOT_AGREED when the user declines, without a retry', async () => {
    const prompt = privacyPrompt(false)
    const call = privacyCall(104, () => false)
    const error = await withPrivacy(call.run, prompt.api).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WxaClientError)
    expect((error as WxaClientError).code).toBe('PRIVACY_NOT_AGREED')
    expect([prompt.asked, call.calls]).toEqual([1, 1])
  })

  it('withPrivacy does not ask on 112: the admin must declare the scope', async () => {
    const prompt = privacyPrompt(true)
    const call = privacyCall(112, () => false)
    const error = (await withPrivacy(call.run, prompt.api).catch(
      (e: unknown) => e,
    )) as WxaClientError
    expect([error.code, prompt.asked, call.calls]).toEqual(['PRIVACY_SCOPE_MISSING', 0, 1])
  })

  it('withPrivacy passes other failures through', async () => {
    const prompt = privacyPrompt(true)
    const failure = { errno: 103, errMsg: 'getLocation:fail auth deny' }
    await expect(withPrivacy(() => Promise.reject(failure), prompt.api)).rejects.toBe(failure)
    expect(prompt.asked).toBe(0)
  })
})

describe('exportAccount', () => {
  it("answers the user's own copy: identities, devices, profile, audit; no token or key", async () => {
    const { api, trail } = miniProgram()
    const { token } = await api.login()
    await api.setProfile({ nickname: 'Ada' })
    const copy = await api.exportAccount()
    expect(copy.identities).toEqual([
      expect.objectContaining({ platform: 'wechat', openid: expect.any(String) }),
    ])
    expect(copy.devices).toHaveLength(1)
    expect(copy.profile).toEqual({ nickname: 'Ada', avatarUrl: null })
    expect(copy.ban).toBeNull()
    expect(copy.audit.map(({ type }) => type)).toContain('login')
    const text = JSON.stringify(copy)
    expect(text).not.toContain(token)
    expect(text).not.toMatch(/session_?key/i)
    expect(trail().at(-1)).toBe('GET /auth/account/export 200')
  })
})
