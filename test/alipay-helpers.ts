// What the Alipay tests share: the emulator's Alipay face and its keys of
// this run, a login, a notification, and the Worker configured with keys.

import type { Context } from 'hono'
import { expect } from 'vitest'
import type { AlipayKeys } from '../src/emulator/alipay/api'
import { EMULATOR_FACES, emulatorStub } from '../src/emulator/stub'
import { emulatorUpstream } from '../src/emulator/upstream'
import type { Upstream } from '../src/platforms/platform'
import { call, type Fetcher, newOpenid, served, testApp, testEnv } from './helpers'

export const ALIPAY = '2021000000000001'

/** What the emulator's keys route shows: everything but Alipay's own private key. */
export type EmulatorKeys = Omit<AlipayKeys, 'alipayPrivateKey'>

export async function emulator<T = any>(path: string, json?: object): Promise<T> {
  const res = await call<T>(json ? 'POST' : 'GET', `/__emulator/${path}`, json ? { json } : {})
  expect(res.status, res.text).toBe(200)
  return res.body
}

export const keys = () => emulator<EmulatorKeys>(`alipay/keys?appId=${ALIPAY}`)

/** What `my.getAuthCode()` gives the mini program. */
export const authCode = async (openid: string) =>
  (await emulator<{ code: string }>('code', { openid, appId: ALIPAY })).code

export async function login(openid = newOpenid('ali'), app?: Fetcher) {
  const code = await authCode(openid)
  const res = await call('POST', '/auth/login', { json: { code, appId: ALIPAY } }, app)
  return { openid, code, res }
}

/** A notification as Alipay posts it, delivered to the Worker's /alipay/events. */
export async function notify(body: string, app?: Fetcher) {
  return call(
    'POST',
    '/alipay/events',
    { body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
    app,
  )
}

export const cancellation = (openid: string, extra: object = {}) =>
  emulator<{ body: string; fields: Record<string, string> }>('alipay/notify', {
    appId: ALIPAY,
    openid,
    ...extra,
  })

export const pem = (label: string, der: Uint8Array | string) => {
  const text = typeof der === 'string' ? der : btoa(String.fromCharCode(...der))
  return `-----BEGIN ${label}-----\n${text.match(/.{1,64}/g)?.join('\n')}\n-----END ${label}-----\n`
}
export const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))

/** The dev upstream, and Alipay's emulator face even with keys configured (as a test's Alipay). */
export const withAlipayFace = (c: Context): Partial<Record<string, Upstream>> => ({
  ...emulatorUpstream()(c),
  alipay: {
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input))
      return emulatorStub(testEnv).fetch(`http://${EMULATOR_FACES.alipay}${url.pathname}`, init)
    },
    appSecret: '',
  },
})

/** The Worker configured with `vars` (keys of its own), talking to the emulator's Alipay. */
export const configured = (vars: Record<string, string>) =>
  served(testApp({ upstream: withAlipayFace }), { ...testEnv, ...vars } as never)
