import { describe, expect, it } from 'vitest'
import {
  qqAdapter,
  taroAdapter,
  ttAdapter,
  uniAdapter,
  type WxaAdapter,
  type WxaClientError,
} from '../src'
import { type Device, emulator } from './device'
import { baseUrl, type Me, miniProgram, rejection } from './helpers'
import { qqStandIn, taroStandIn, ttStandIn, uniStandIn } from './stand-ins'

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
