import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  cloudAdapter,
  DEFAULT_LOGIN_COOLDOWN,
  taroAdapter,
  uniAdapter,
  type WxaAdapter,
  wxAdapter,
} from '../src'
import { type Device, endSession } from './device'
import { baseUrl, type Me, miniProgram, rejection } from './helpers'
import { taroStandIn, uniH5StandIn, uniStandIn, wxCloudStandIn, wxStandIn } from './stand-ins'

const COOLED = DEFAULT_LOGIN_COOLDOWN + 1000 // ms

const frameworks: [string, (phone: Device) => WxaAdapter][] = [
  ['wx (callbacks)', (phone) => wxAdapter(wxStandIn(phone))],
  ['Taro (promises)', (phone) => taroAdapter(taroStandIn(phone))],
  [
    'uni-app (callbacks; Vue 2 promises would be [err, res])',
    (phone) => uniAdapter(uniStandIn(phone)),
  ],
  [
    'uni-app H5 (no uni.login: the code from { login })',
    (phone) => uniAdapter(uniH5StandIn(phone), { login: () => phone.login() }),
  ],
]

describe.each(frameworks)('%s', (_name, adapter) => {
  it('logs in, requests, uploads and downloads against the Worker', async () => {
    const { api, phone, openid, stored, trail } = miniProgram({ adapter })
    const me = await api.request<Me>({ url: '/me' })
    expect(me.data.user.openid).toBe(openid)
    expect(stored()?.token).toBeTruthy()

    const path = join(await mkdtemp(join(tmpdir(), 'wxa-ad-')), 'a.txt')
    await writeFile(path, randomBytes(64))
    const up = await api.uploadFile<{ files: Record<string, { size: number }> }>({
      url: '/__dev/upload',
      filePath: path,
      name: 'a',
    })
    expect(up.data.files.a?.size).toBe(64)

    const down = await api.downloadFile({ url: '/__dev/download?size=300' })
    expect((await readFile(down.tempFilePath)).length).toBe(300)

    expect(phone.state.logins).toBe(1)
    expect(trail()).toEqual([
      'POST /auth/login 200',
      'GET /me 200',
      'POST /__dev/upload 200',
      'GET /__dev/download?size=300 200',
    ])
    expect(phone.state.sent.slice(1).map((s) => s.authorization)).toEqual(
      Array(3).fill(`JWT ${stored()?.token}`),
    )
  })

  it('answers a 401 with a refresh or a login, and refreshes when due', async () => {
    const { api, clock, phone, trail } = miniProgram({ adapter })
    const { token } = await api.login()
    await endSession(baseUrl, token)
    clock.advance(COOLED)
    expect((await api.request({ url: '/me' })).statusCode).toBe(200)
    clock.advance(20 * 24 * 60 * 60 * 1000)
    expect((await api.request({ url: '/me' })).statusCode).toBe(200)
    expect(phone.state.logins).toBe(2)
    expect(trail().slice(1)).toEqual([
      'GET /me 401',
      'POST /auth/refresh 401',
      'POST /auth/login 200',
      'GET /me 200',
      'POST /auth/refresh 200',
      'GET /me 200',
    ])
  })

  it("turns the framework's network failure into NETWORK_ERROR with its errMsg", async () => {
    const { api, phone } = miniProgram({ adapter })
    await api.login()
    phone.state.offline = true
    const error = await rejection(api.request({ url: '/me' }))
    expect(error.code).toBe('NETWORK_ERROR')
    expect(error.message).toBe('/me: request:fail offline')
    expect(error.cause).toEqual({ errMsg: 'request:fail offline' })
  })

  it("turns the framework's login failure into WX_LOGIN_FAILED", async () => {
    const { api, phone } = miniProgram({ adapter })
    phone.login = () => Promise.reject(new Error('auth deny'))
    const error = await rejection(api.login())
    expect(error.code).toBe('WX_LOGIN_FAILED')
    expect(error.message).toMatch(/login:fail auth deny/)
  })
})

describe('uni-app', () => {
  it('logs in with provider weixin', async () => {
    const { device } = await import('./device')
    const uni = uniStandIn(device(baseUrl))
    await uniAdapter(uni).login()
    expect(uni.providers).toEqual(['weixin'])
  })

  it("the stand-in's promise form is Vue 2's: [error, result], which the adapter never relies on", async () => {
    const { device } = await import('./device')
    const uni = uniStandIn(device(baseUrl))
    const answer = await uni.request({ url: `${baseUrl}/healthz` })
    expect(answer).toEqual([null, expect.objectContaining({ statusCode: 200 })])
  })
})

describe("uni-app's H5 build", () => {
  it.each([
    ['fails uni.login as not supported', 'unsupported'],
    ['has no uni.login', 'absent'],
  ])(
    'that %s: WX_LOGIN_FAILED saying how to give a login, and nothing sent',
    async (_how, login) => {
      const { api, trail } = miniProgram({
        adapter: (phone) => uniAdapter(uniH5StandIn(phone, { login })),
      })
      const error = await rejection(api.request({ url: '/me' }))
      expect(error.code).toBe('WX_LOGIN_FAILED')
      expect(error.message).toContain("uni-app's H5 build has none")
      expect(error.message).toContain('uniAdapter(uni, { login })')
      expect(trail()).toEqual([])
    },
  )

  it('takes a code given once, as a web-view page gets it in its URL', async () => {
    const { api, phone, openid } = miniProgram({
      adapter: (phone) => {
        const code = phone.login()
        return uniAdapter(uniH5StandIn(phone), { login: () => code })
      },
    })
    const me = await api.request<Me>({ url: '/me' })
    expect(me.data.user.openid).toBe(openid)
    expect(phone.state.logins).toBe(1)
  })

  it('refuses an empty code from { login } before sending it', async () => {
    const { api, trail } = miniProgram({
      adapter: (phone) => uniAdapter(uniH5StandIn(phone), { login: () => '' }),
    })
    const error = await rejection(api.request({ url: '/me' }))
    expect([error.code, error.message]).toEqual([
      'WX_LOGIN_FAILED',
      'wx.login failed: login:fail no code',
    ])
    expect(trail()).toEqual([])
  })
})

describe('cloudAdapter (wx.cloud.callContainer)', () => {
  const NAME_ONLY = 'https://wxa-auth.callcontainer' // its host is dropped: callContainer takes a path
  const cloudProgram = (login?: 'code' | 'headers') => {
    let wx: ReturnType<typeof wxCloudStandIn> | undefined
    const program = miniProgram({
      baseUrl: NAME_ONLY,
      adapter: (phone) => {
        // The gateway routes to the service: the Worker.
        wx = wxCloudStandIn(phone, baseUrl)
        return cloudAdapter({
          env: 'prod-test',
          service: 'wxa-auth',
          wx,
          ...(login ? { login } : {}),
        })
      },
    })
    return { ...program, calls: () => wx?.calls ?? [] }
  }

  it('logs in with wx.login and requests through callContainer: env, service, the path only', async () => {
    const { api, openid, phone, calls } = cloudProgram()
    const me = await api.request<Me>({ url: '/me' })
    expect(me.data.user.openid).toBe(openid)
    expect(phone.state.logins).toBe(1)
    expect(calls()).toEqual([
      { env: 'prod-test', service: 'wxa-auth', path: '/auth/login' },
      { env: 'prod-test', service: 'wxa-auth', path: '/me' },
    ])
  })

  it("with login: 'headers' sends no code (no wx.login); a server outside CLOUD_HOSTING=wechat refuses", async () => {
    const { api, phone } = cloudProgram('headers')
    const error = await rejection(api.login())
    expect(error.code).toBe('INVALID_REQUEST')
    expect(phone.state.logins).toBe(0)
    expect(phone.state.sent.map(({ path, body }) => [path, body])).toEqual([['/auth/login', '{}']])
  })

  it('fails like the runtime without env or service: NETWORK_ERROR with its errMsg', async () => {
    const { api } = miniProgram({
      baseUrl: NAME_ONLY,
      adapter: (phone) =>
        cloudAdapter({ env: '', service: 'wxa-auth', wx: wxCloudStandIn(phone, baseUrl) }),
    })
    const error = await rejection(api.login())
    expect(error.code).toBe('NETWORK_ERROR')
    expect(error.message).toContain('cloud.callContainer:fail')
  })
})

describe('adapters need their runtime', () => {
  it('throw a TypeError without one', () => {
    expect(() => wxAdapter()).toThrow(TypeError)
    expect(() => cloudAdapter({ env: 'e', service: 's' })).toThrow(TypeError)
    expect(() => uniAdapter()).toThrow(TypeError)
    expect(() => taroAdapter(undefined as never)).toThrow(TypeError)
  })
})
