import { SELF } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { Hono } from 'hono'
import { RegExpRouter } from 'hono/router/reg-exp-router'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { type WxaEnv, wxaAuth } from '../src/index'
import { cloudflare } from '../src/runtime/cloudflare/index'
import {
  type EmulatorBindings,
  type EmulatorClient,
  type EmulatorFetcher,
  type EmulatorTarget,
  emulatorClient,
  emulatorUpstream,
  loginCode,
  mountEmulator,
} from '../src/testing'
import { call, expectError, newOpenid, served, testEnv } from './helpers'

// `wxa-auth/testing` as a host app uses it: the emulator's control surface
// mounted on its own Hono app, and login codes from emulatorClient().

function hostApp(path?: string) {
  const auth = wxaAuth({ runtime: cloudflare(), upstream: emulatorUpstream() })
  const app = new Hono<WxaEnv>()
  app.onError(auth.onError)
  app.use(auth.middleware)
  app.route('/auth', auth.routes)
  app.get('/orders', auth.requireLogin, (c) => c.json({ user: c.var.user }))
  return mountEmulator(app, path === undefined ? {} : { path })
}

async function logIn(app: ReturnType<typeof served>, code: string) {
  const res = await call('POST', '/auth/login', { json: { code } }, app)
  expect(res.status, res.text).toBe(200)
  const orders = await call('GET', '/orders', { token: res.body.token }, app)
  expect(orders.status).toBe(200)
  expect(orders.body.user.id).toBe(res.body.user.id)
  return res.body
}

describe('wxa-auth/testing', () => {
  it('mounts the control surface: a code from /__emulator/code logs in', async () => {
    const app = served(hostApp())
    const openid = newOpenid()
    const res = await call('POST', '/__emulator/code', { json: { openid } }, app)
    expect(res.status).toBe(200)
    expect(res.body.code).toMatch(/^[A-Za-z0-9]{32}$/)
    await logIn(app, res.body.code)
  })

  it('leaves its mount point, and the host routes under it, to the host app', async () => {
    // RegExpRouter, as wxa-auth's own app routes: it refused a parameter matching `/` there.
    const app = new Hono<WxaEnv>({ router: new RegExpRouter() })
    app.post('/__emulator/events', (c) => c.json({ host: true }))
    mountEmulator(app)
    const host = served(app)
    const own = await call('POST', '/__emulator/events', { json: {} }, host)
    expect(own.body).toEqual({ host: true })
    expect((await call('GET', '/__emulator', {}, host)).status).toBe(404)
    const res = await call('POST', '/__emulator/code', { json: { openid: newOpenid() } }, host)
    expect(res.body.code).toMatch(/^[A-Za-z0-9]{32}$/)
  })

  it('mounts it elsewhere, and the client follows with `path`', async () => {
    const app = served(hostApp('/test/wechat/'))
    const openid = newOpenid()
    expect((await call('POST', '/__emulator/code', { json: { openid } }, app)).status).toBe(404)
    const wechat = emulatorClient(
      { fetch: (request) => app.fetch(request.url, request) },
      { path: '/test/wechat' },
    )
    await logIn(app, await wechat.loginCode(openid))
    expect(await wechat.getUser(openid)).toMatchObject({ openid, blocked: false, calls: 1 })
  })

  it('reaches the Durable Object straight from the env', async () => {
    const app = served(hostApp())
    const openid = newOpenid()
    const body = await logIn(app, await loginCode(testEnv, openid))
    const wechat = emulatorClient(testEnv)

    const sealed = await wechat.userData(openid, { nickName: 'Alice' })
    expect(Object.keys(sealed).sort()).toEqual(['encryptedData', 'iv', 'rawData', 'signature'])
    const decrypted = await call('POST', '/auth/decrypt', { token: body.token, json: sealed }, app)
    expect(decrypted.body).toEqual({ data: { nickName: 'Alice' } })

    const phone = await wechat.phoneCode(openid, '13800138000')
    const number = await call(
      'POST',
      '/auth/phone',
      { token: body.token, json: { code: phone } },
      app,
    )
    expect(number.body.phone.purePhoneNumber).toBe('13800138000')
  })

  it('sets faults and blocks, and says what the emulator refused', async () => {
    const app = served(hostApp())
    const wechat = emulatorClient(testEnv)
    const openid = newOpenid()
    expect(await wechat.getUser(openid)).toBeNull()
    await wechat.setUser(openid, { blocked: true })
    const res = await call(
      'POST',
      '/auth/login',
      { json: { code: await wechat.loginCode(openid) } },
      app,
    )
    expectError(res, 403, 'USER_BLOCKED')
    await expect(wechat.loginCode('not an openid!')).rejects.toThrow(/answered 400/)
    await expect(wechat.phoneCode(newOpenid(), '13800138000')).rejects.toThrow(/answered 404/)
  })

  it('answers 404 without the emulator binding, as in production', async () => {
    const app = hostApp()
    const { WECHAT_EMULATOR: _, ...production } = testEnv
    const res = await app.request('/__emulator/code', { method: 'POST', body: '{}' }, production)
    expect(res.status).toBe(404)
  })

  it('takes every target form the README shows, named or plain', async () => {
    const self = (exports as unknown as { default: EmulatorFetcher }).default
    const forms: [string, EmulatorTarget][] = [
      ['{ env }', { env: env as EmulatorBindings }],
      ['env', env as EmulatorBindings],
      ['{ fetcher: exports.default }', { fetcher: self }],
      ['exports.default', self],
      ['{ fetcher: SELF }', { fetcher: SELF }],
      ['SELF', SELF],
    ]
    for (const [name, target] of forms) {
      const openid = newOpenid()
      const wechat = emulatorClient(target)
      const code = await wechat.loginCode(openid)
      const res = await self.fetch(
        new Request('http://wxa.test/auth/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': '2001:db8:6::1' },
          body: JSON.stringify({ code }),
        }),
      )
      expect(res.status, name).toBe(200)
      expect(await wechat.getUser(openid), name).toMatchObject({ openid, calls: 1 })
    }
  })

  it('refuses a target it cannot tell, at once', () => {
    for (const target of [{}, { url: 8787 }, { env: {} }, { fetcher: {} }, { env, url: 'x' }]) {
      expect(() => emulatorClient(target as never), JSON.stringify(target)).toThrow(TypeError)
    }
  })

  it('types its targets', () => {
    expectTypeOf(emulatorClient).parameter(0).toEqualTypeOf<EmulatorTarget>()
    expectTypeOf(emulatorClient(testEnv)).toEqualTypeOf<EmulatorClient>()
    expectTypeOf(emulatorClient(testEnv).loginCode).returns.resolves.toBeString()
  })
})
