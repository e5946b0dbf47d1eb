import { describe, expect, it } from 'vitest'
import {
  myAdapter,
  qqAdapter,
  taroAdapter,
  ttAdapter,
  uniAdapter,
  type WxaAdapter,
  type WxaClientError,
} from '../src'
import { type Device, emulator } from './device'
import { baseUrl, type Me, miniProgram, rejection } from './helpers'
import { myStandIn, qqStandIn, taroStandIn, ttStandIn, uniStandIn } from './stand-ins'

// One deployment, three platforms (wrangler.toml [env.dev.vars]): the SDK on
// Douyin's and QQ's runtimes, and Taro and uni-app built for them, over real
// HTTP against `npm run dev` and its emulators.
const DOUYIN = 'tt0000000000emu01'
const QQ = '1100000001'

const runtimes: [string, string, string, (phone: Device) => WxaAdapter][] = [
  ['tt (ttAdapter)', 'douyin', DOUYIN, (phone) => ttAdapter(ttStandIn(phone))],
  ['qq (qqAdapter)', 'qq', QQ, (phone) => qqAdapter(qqStandIn(phone))],
  ['Taro built for tt', 'douyin', DOUYIN, (phone) => taroAdapter(taroStandIn(phone, 'tt'))],
  ['Taro built for qq', 'qq', QQ, (phone) => taroAdapter(taroStandIn(phone, 'qq'))],
  ['uni-app built for qq', 'qq', QQ, (phone) => uniAdapter(uniStandIn(phone))],
]

const loginBody = (program: ReturnType<typeof miniProgram>) =>
  JSON.parse(program.phone.state.sent.find((s) => s.path === '/auth/login')?.body ?? '{}')

describe.each(runtimes)('%s', (_name, platform, appId, adapter) => {
  it('logs in to its app, and /me says which platform the user is on', async () => {
    const program = miniProgram({ adapter, appId })
    const me = await program.api.request<Me & { user: { platform: string } }>({ url: '/me' })
    expect(me.statusCode).toBe(200)
    expect(me.data.user).toEqual({ id: expect.any(String), platform, openid: program.openid })
    const sent = loginBody(program)
    expect(sent.appId).toBe(appId)
    // Douyin's runtime gives an anonymousCode beside the code: it goes along.
    expect(Object.keys(sent).sort()).toEqual(
      platform === 'douyin' ? ['anonymousCode', 'appId', 'code'] : ['appId', 'code'],
    )
  })

  it('decrypts data sealed with the session_key of that platform; no phone number there', async () => {
    const program = miniProgram({ adapter, appId })
    const profile = { nickName: `${platform} user` }
    const data = await program.api.decrypt(() =>
      emulator<{ encryptedData: string; iv: string }>(baseUrl, 'user-data', {
        openid: program.openid,
        appid: appId,
        data: profile,
      }),
    )
    expect(data).toEqual(profile)
    const error: WxaClientError = await rejection(program.api.phone('a-phone-code'))
    expect([error.code, error.status]).toEqual(['NOT_OFFERED', 400])
  })
})

describe('without appId', () => {
  it("logs in to the server's default app (WeChat's first here): a Douyin code is refused there", async () => {
    const program = miniProgram({ adapter: (phone) => ttAdapter(ttStandIn(phone)), appId: DOUYIN })
    const error = await rejection(program.again({ appId: undefined }).login())
    expect(error.code).toBe('CODE_INVALID')
  })
})

describe('ttAdapter and qqAdapter', () => {
  it('need their runtime', () => {
    expect(() => ttAdapter()).toThrow(/ttAdapter: no `tt`/)
    expect(() => qqAdapter()).toThrow(/qqAdapter: no `qq`/)
  })
})

describe('Alipay: myAdapter, and Taro and uni-app built for Alipay', () => {
  const ALIPAY = '2021000000000001'
  /** In an Alipay build the global `my` is there: Taro's and uni-app's adapters log in with it. */
  const onAlipay = <T>(phone: Device, make: () => T): T => {
    const global = globalThis as { my?: unknown }
    global.my = myStandIn(phone)
    try {
      return make()
    } finally {
      delete global.my
    }
  }
  const alipay: [string, (phone: Device) => WxaAdapter][] = [
    ['my (myAdapter)', (phone) => myAdapter(myStandIn(phone))],
    ['Taro built for alipay', (phone) => onAlipay(phone, () => taroAdapter(taroStandIn(phone)))],
    [
      'uni-app built for mp-alipay',
      (phone) => onAlipay(phone, () => uniAdapter(uniStandIn(phone))),
    ],
  ]

  it.each(alipay)(
    '%s: logs in with my.getAuthCode, and /me says alipay',
    async (_name, adapter) => {
      const program = miniProgram({ adapter, appId: ALIPAY })
      const me = await program.api.request<Me & { user: { platform: string } }>({ url: '/me' })
      expect(me.statusCode).toBe(200)
      expect(me.data.user).toEqual({
        id: expect.any(String),
        platform: 'alipay',
        openid: program.openid,
      })
      expect(Object.keys(loginBody(program)).sort()).toEqual(['appId', 'code'])
    },
  )

  it('myAdapter: the phone number from my.getPhoneNumber, an error answer as an error, storage by { key }', async () => {
    const program = miniProgram({ adapter: (phone) => myAdapter(myStandIn(phone)), appId: ALIPAY })
    const signed = await emulator<{ response: string; sign: string }>(baseUrl, 'alipay/phone', {
      appId: ALIPAY,
      mobile: '13800138000',
    })
    expect((await program.api.phone(signed)).phoneNumber).toBe('13800138000')
    const error: WxaClientError = await rejection(
      program.api.decrypt(async () => ({ encryptedData: 'AAAA', iv: 'AAAAAAAAAAAAAAAAAAAAAA==' })),
    )
    expect([error.code, error.status]).toEqual(['NOT_OFFERED', 400])
    expect(program.phone.state.storage.size).toBeGreaterThan(0)
  })

  it('myAdapter needs its runtime', () => {
    expect(() => myAdapter()).toThrow(/myAdapter: no `my`/)
  })
})
