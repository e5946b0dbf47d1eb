import { describe, expect, it } from 'vitest'
import { defaultUserId } from '../src/hooks'
import { call, codeFor, expectError, kvKeys, login, newOpenid } from './helpers'

describe('login and /me', () => {
  it('logs in with a wx.login code and calls a protected route', async () => {
    const openid = newOpenid()
    const code = await codeFor(openid)
    const res = await call('POST', '/auth/login', { json: { code } })
    expect(res.status, res.text).toBe(200)
    const uid = await defaultUserId('wx00000000emulator', openid)
    expect(res.body).toEqual({
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      tokenType: 'JWT',
      expiresAt: expect.any(String),
      user: { id: uid, openid },
    })
    const me = await call('GET', '/me', { token: res.body.token })
    expect(me.status).toBe(200)
    expect(me.body).toEqual({ user: { id: uid, openid }, session: {} })
    expect(await kvKeys(`session:${uid}:`)).toHaveLength(1)
  })
})
