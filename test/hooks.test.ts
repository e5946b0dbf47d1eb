import { describe, expect, it } from 'vitest'
import type { PlatformIdentity } from '../src/hooks'
import { call, decodeJwt, login, newOpenid, refreshWith, served, testApp } from './helpers'

interface Member {
  id: string
  nickname: string
  role: 'member' | 'admin'
}

/** A user store of the app's own, keyed by openid, reached only through the hooks. */
function memberApp() {
  const members = new Map<string, Member>()
  const seen: PlatformIdentity[] = []
  const app = testApp({
    findOrCreateUser(identity) {
      seen.push(identity)
      let member = members.get(identity.openid)
      if (!member) {
        member = {
          id: `m${members.size + 1}`,
          nickname: `guest ${members.size + 1}`,
          role: 'member',
        }
        members.set(identity.openid, member)
      }
      return member
    },
    userToClaims: (member) => ({ role: member.role, nick: member.nickname, sub: 'hijack', exp: 1 }),
    claimsToUser: (claims) =>
      claims.role === 'banned'
        ? null
        : { id: claims.sub, nickname: String(claims.nick), role: claims.role as Member['role'] },
  })
  return { app: served(app), seen }
}

describe('user hooks', () => {
  it('use the app’s own user model end to end', async () => {
    const { app, seen } = memberApp()
    const openid = newOpenid()
    const res = await login(openid, app)
    expect(res.user).toEqual({ id: 'm1', nickname: 'guest 1', role: 'member' })
    expect(seen).toEqual([{ platform: 'wechat', appId: 'wx00000000emulator', openid }])

    const { payload } = decodeJwt(res.token)
    expect(payload).toMatchObject({ sub: 'm1', role: 'member', nick: 'guest 1' })
    expect(payload.exp).toBeGreaterThan(Date.now() / 1000)

    const me = await call('GET', '/me', { token: res.token }, app)
    expect(me.body.user).toEqual({ id: 'm1', nickname: 'guest 1', role: 'member' })
    // The same WeChat user finds the same member again.
    expect((await login(openid, app)).user.id).toBe('m1')
  })

  it('keep the claims userToClaims gave at login in every token a refresh makes', async () => {
    const { app } = memberApp()
    const res = await login(newOpenid(), app)
    const next = await refreshWith(res.refreshToken, app)
    expect(next.status, next.text).toBe(200)
    expect(next.body.user).toEqual({ id: 'm1', nickname: 'guest 1', role: 'member' })
    expect(decodeJwt(next.body.token).payload).toMatchObject({
      sub: 'm1',
      role: 'member',
      nick: 'guest 1',
      gen: 1,
    })
    const me = await call('GET', '/me', { token: next.body.token }, app)
    expect(me.body.user).toEqual({ id: 'm1', nickname: 'guest 1', role: 'member' })
  })
})
