// Alipay mini programs through the emulator's Alipay face: the RSA2 gateway
// both ways, the phone number, the cancellation notification, the key
// formats and the certificate mode. The emulator makes fresh keys per run;
// the tests read them from its control surface and configure the Worker.

import type { Context } from 'hono'
import { describe, expect, it } from 'vitest'
import { EMULATOR_FACES, emulatorStub } from '../src/emulator/stub'
import { emulatorUpstream } from '../src/emulator/upstream'
import { defaultUserId } from '../src/hooks'
import { pkcs1FromPkcs8 } from '../src/platforms/alipay/der'
import { certificateSn, certificates, rootCertSn } from '../src/platforms/alipay/keys'
import type { Upstream } from '../src/platforms/platform'
import {
  appWith,
  call,
  configError,
  expectError,
  type Fetcher,
  kvKeys,
  newOpenid,
  production,
  served,
  testApp,
  testEnv,
} from './helpers'

const ALIPAY = '2021000000000001'

interface EmulatorKeys {
  appPrivateKey: string
  appPublicKey: string
  alipayPublicKey: string
  aesKey: string
  appCert: string
  alipayCert: string
  rootCert: string
  appCertSn: string
  rootCertSn: string
}

async function emulator<T = any>(path: string, json?: object): Promise<T> {
  const res = await call<T>(json ? 'POST' : 'GET', `/__emulator/${path}`, json ? { json } : {})
  expect(res.status, res.text).toBe(200)
  return res.body
}

const keys = () => emulator<EmulatorKeys>(`alipay/keys?appId=${ALIPAY}`)

/** What `my.getAuthCode()` gives the mini program. */
const authCode = async (openid: string) =>
  (await emulator<{ code: string }>('code', { openid, appId: ALIPAY })).code

async function login(openid = newOpenid('ali'), app?: Fetcher) {
  const code = await authCode(openid)
  const res = await call('POST', '/auth/login', { json: { code, appId: ALIPAY } }, app)
  return { openid, code, res }
}

/** A notification as Alipay posts it, delivered to the Worker's /alipay/events. */
async function notify(body: string, app?: Fetcher) {
  return call(
    'POST',
    '/alipay/events',
    { body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
    app,
  )
}

const cancellation = (openid: string, extra: object = {}) =>
  emulator<{ body: string; fields: Record<string, string> }>('alipay/notify', {
    appId: ALIPAY,
    openid,
    ...extra,
  })

const pem = (label: string, der: Uint8Array | string) => {
  const text = typeof der === 'string' ? der : btoa(String.fromCharCode(...der))
  return `-----BEGIN ${label}-----\n${text.match(/.{1,64}/g)?.join('\n')}\n-----END ${label}-----\n`
}
const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))

/** The dev upstream, and Alipay's emulator face even with keys configured (as a test's Alipay). */
const withAlipayFace = (c: Context): Partial<Record<string, Upstream>> => ({
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
const configured = (vars: Record<string, string>) =>
  served(testApp({ upstream: withAlipayFace }), { ...testEnv, ...vars } as never)

describe('Alipay end to end through the emulator', () => {
  it('logs in, answers /me, gives the phone number, and a cancellation forgets the user', async () => {
    const { openid, res } = await login()
    expect(res.status, res.text).toBe(200)
    const id = await defaultUserId(ALIPAY, openid, 'alipay')
    expect(res.body.user).toEqual({ id, platform: 'alipay', openid })
    expect(await kvKeys(`identity:alipay:${ALIPAY}:${openid}`)).toHaveLength(1)
    const me = await call('GET', '/me', { token: res.body.token })
    expect(me.body.user).toEqual({ id, platform: 'alipay', openid })

    const signed = await emulator<{ response: string; sign: string }>('alipay/phone', {
      appId: ALIPAY,
      mobile: '13800138000',
    })
    const phone = await call('POST', '/auth/phone', { json: signed, token: res.body.token })
    expect(phone.status, phone.text).toBe(200)
    expect(phone.body.phone).toEqual({
      phoneNumber: '13800138000',
      purePhoneNumber: '13800138000',
      countryCode: '86',
    })

    const delivered = await call('POST', '/__emulator/alipay/cancel', { json: { openid } })
    expect(delivered.body).toEqual({ status: 200, answer: 'success' })
    expectError(await call('GET', '/me', { token: res.body.token }), 401, 'SESSION_EXPIRED')
    expect(await kvKeys(`identity:alipay:${ALIPAY}:${openid}`)).toHaveLength(0)
  })

  it('has no session_key: decrypt and user info are NOT_OFFERED', async () => {
    const { res } = await login()
    const decrypt = await call('POST', '/auth/decrypt', {
      json: { encryptedData: 'AAAA', iv: 'AAAAAAAAAAAAAAAAAAAAAA==' },
      token: res.body.token,
    })
    expectError(decrypt, 400, 'NOT_OFFERED')
    const code = await authCode(newOpenid('ali'))
    const withInfo = await call('POST', '/auth/login', {
      json: { code, appId: ALIPAY, rawData: '{}', signature: 'a'.repeat(40) },
    })
    expectError(withInfo, 400, 'NOT_OFFERED')
  })

  it('keys an old app’s user_id apart from every open_id', async () => {
    const same = '2088000000000001'
    const byOpenId = await login(same)
    await emulator('alipay/apps', { appId: ALIPAY, identity: 'user_id' })
    try {
      const byUserId = await login(same)
      expect(byUserId.res.status, byUserId.res.text).toBe(200)
      expect(byUserId.res.body.user.openid).toBe(`user_id:${same}`)
      expect(byUserId.res.body.user.id).not.toBe(byOpenId.res.body.user.id)
    } finally {
      await emulator('alipay/apps', { appId: ALIPAY, identity: 'open_id' })
    }
  })
})

describe('Alipay security', () => {
  it('a used auth code is CODE_INVALID', async () => {
    const openid = newOpenid('ali')
    const code = await authCode(openid)
    const first = await call('POST', '/auth/login', { json: { code, appId: ALIPAY } })
    expect(first.status, first.text).toBe(200)
    const again = await call('POST', '/auth/login', { json: { code, appId: ALIPAY } })
    expectError(again, 401, 'CODE_INVALID')
  })

  it('a forged gateway answer (changed after Alipay signed it) is a 502 and stores nothing', async () => {
    await emulator('alipay/apps', { appId: ALIPAY, forge: 1 })
    const { openid, res } = await login()
    expectError(res, 502, 'UPSTREAM_ERROR')
    expect(await kvKeys(`identity:alipay:${ALIPAY}:`)).not.toContainEqual(
      expect.objectContaining({ name: expect.stringContaining(openid) }),
    )
    expect(await kvKeys(`identity:alipay:${ALIPAY}:forged`)).toHaveLength(0)
  })

  it('a forged or unsigned notification is 401 and forgets no one', async () => {
    const { openid, res } = await login()
    const { fields } = await cancellation(openid)
    const tampered = new URLSearchParams({ ...fields, biz_content: '{"open_id":"someone-else"}' })
    expectError(await notify(tampered.toString()), 401, 'EVENT_SIGNATURE_INVALID')
    const { sign: _sign, ...unsigned } = fields
    expectError(
      await notify(new URLSearchParams(unsigned).toString()),
      401,
      'EVENT_SIGNATURE_INVALID',
    )
    const foreign = new URLSearchParams({ ...fields, app_id: '2021000000000999' })
    expectError(await notify(foreign.toString()), 401, 'EVENT_SIGNATURE_INVALID')
    expect((await call('GET', '/me', { token: res.body.token })).status).toBe(200)
  })

  it('a replayed notification is acknowledged and acted on once', async () => {
    const { openid, res } = await login()
    const { body } = await cancellation(openid)
    const first = await notify(body)
    expect([first.status, first.text]).toEqual([200, 'success'])
    expectError(await call('GET', '/me', { token: res.body.token }), 401, 'SESSION_EXPIRED')
    // The user comes back; the same notification again must not forget them.
    const back = await login(openid)
    expect(back.res.status).toBe(200)
    const replay = await notify(body)
    expect([replay.status, replay.text]).toEqual([200, 'success'])
    expect((await call('GET', '/me', { token: back.res.body.token })).status).toBe(200)
  })

  it('a phone response not signed by Alipay is SIGNATURE_INVALID', async () => {
    const { res } = await login()
    const signed = await emulator<{ response: string; sign: string }>('alipay/phone', {
      appId: ALIPAY,
      mobile: '13800138000',
    })
    const other = await emulator<{ response: string; sign: string }>('alipay/phone', {
      appId: ALIPAY,
      mobile: '13900139000',
    })
    const mixed = { response: signed.response, sign: other.sign }
    expectError(
      await call('POST', '/auth/phone', { json: mixed, token: res.body.token }),
      400,
      'SIGNATURE_INVALID',
    )
    expectError(
      await call('POST', '/auth/phone', { json: { response: 'x' }, token: res.body.token }),
      400,
      'INVALID_REQUEST',
    )
  })
})

describe('Alipay errors as the project’s codes', () => {
  it.each([
    [{ code: '20000', sub_code: 'aop.unknow-error' }, 503, 'UPSTREAM_UNAVAILABLE'],
    [{ code: '40004', sub_code: 'aop.app-qps-over-limit' }, 503, 'UPSTREAM_UNAVAILABLE'],
    [{ code: '40002', sub_code: 'isv.invalid-auth-code' }, 401, 'CODE_INVALID'],
    [
      { code: '40006', sub_code: 'isv.insufficient-isv-permissions' },
      500,
      'APP_CREDENTIALS_INVALID',
    ],
    [{ code: '40004', sub_code: 'isv.something-else' }, 502, 'UPSTREAM_ERROR'],
  ])('%o is %i %s, and no session', async (refuse, status, code) => {
    await emulator('alipay/apps', { appId: ALIPAY, refuse })
    const { openid, res } = await login()
    expectError(res, status, code)
    expect(await kvKeys(`identity:alipay:${ALIPAY}:${openid}`)).toHaveLength(0)
  })

  it('an app private key Alipay does not know: isv.invalid-signature, 500 APP_CREDENTIALS_INVALID', async () => {
    const k = await keys()
    const stranger = (await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        hash: 'SHA-256',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
      },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair
    const pkcs8 = new Uint8Array(
      (await crypto.subtle.exportKey('pkcs8', stranger.privateKey)) as ArrayBuffer,
    )
    const app = configured({
      ALIPAY_PRIVATE_KEY: btoa(String.fromCharCode(...pkcs8)),
      ALIPAY_PUBLIC_KEY: k.alipayPublicKey,
    })
    expectError((await login(undefined, app)).res, 500, 'APP_CREDENTIALS_INVALID')
  })

  it('a phone response under another content key is DECRYPT_FAILED', async () => {
    const k = await keys()
    const other = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
    const app = configured({
      ALIPAY_PRIVATE_KEY: k.appPrivateKey,
      ALIPAY_PUBLIC_KEY: k.alipayPublicKey,
      ALIPAY_AES_KEY: other,
    })
    const { res } = await login(undefined, app)
    const signed = await emulator('alipay/phone', { appId: ALIPAY, mobile: '13800138000' })
    expectError(
      await call('POST', '/auth/phone', { json: signed, token: res.body.token }, app),
      400,
      'DECRYPT_FAILED',
    )
  })

  it('onAccountCancelled hears of a cancellation, with the Alipay app and user', async () => {
    const heard: unknown[] = []
    const app = served(
      testApp({
        onAccountCancelled: (event) =>
          void heard.push({ appId: event.appId, openid: event.openid, ended: event.sessionsEnded }),
      }),
    )
    const { openid, res } = await login(undefined, app)
    expect(res.status).toBe(200)
    const { body } = await cancellation(openid)
    expect((await notify(body, app)).text).toBe('success')
    expect(heard).toEqual([{ appId: ALIPAY, openid, ended: 1 }])
  })
})

describe('Alipay keys as configured', () => {
  it.each([
    ['PKCS#8 PEM', (k: EmulatorKeys) => pem('PRIVATE KEY', k.appPrivateKey)],
    [
      'PKCS#1 PEM',
      (k: EmulatorKeys) => pem('RSA PRIVATE KEY', pkcs1FromPkcs8(bytes(k.appPrivateKey))),
    ],
    ['bare base64 (PKCS#8)', (k: EmulatorKeys) => k.appPrivateKey],
    [
      'bare base64 (PKCS#1)',
      (k: EmulatorKeys) => btoa(String.fromCharCode(...pkcs1FromPkcs8(bytes(k.appPrivateKey)))),
    ],
    [
      'PEM with \\n written out',
      (k: EmulatorKeys) => pem('PRIVATE KEY', k.appPrivateKey).replace(/\n/g, '\\n'),
    ],
  ])('the app private key as %s logs in', async (_form, privateKey) => {
    const k = await keys()
    const app = configured({
      ALIPAY_PRIVATE_KEY: privateKey(k),
      ALIPAY_PUBLIC_KEY: pem('PUBLIC KEY', k.alipayPublicKey),
      ALIPAY_AES_KEY: k.aesKey,
    })
    const { res } = await login(undefined, app)
    expect(res.status, res.text).toBe(200)
  })

  it('Alipay’s public key of another pair: every answer is refused, nothing stored', async () => {
    const k = await keys()
    const other = (await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        hash: 'SHA-256',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
      },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair
    const spki = new Uint8Array(
      (await crypto.subtle.exportKey('spki', other.publicKey)) as ArrayBuffer,
    )
    const app = configured({
      ALIPAY_PRIVATE_KEY: k.appPrivateKey,
      ALIPAY_PUBLIC_KEY: btoa(String.fromCharCode(...spki)),
    })
    const { openid, res } = await login(undefined, app)
    expectError(res, 502, 'UPSTREAM_ERROR')
    expect(await kvKeys(`identity:alipay:${ALIPAY}:${openid}`)).toHaveLength(0)
  })

  it('the certificate mode sends app_cert_sn and alipay_root_cert_sn and logs in', async () => {
    const k = await keys()
    // The SNs as Alipay computes them; the root's non-RSA certificate is left out.
    expect(certificateSn(certificates(k.appCert)[0] as never)).toBe(k.appCertSn)
    expect(certificates(k.rootCert)).toHaveLength(2)
    expect(rootCertSn(certificates(k.rootCert))).toBe(k.rootCertSn)
    const app = configured({
      ALIPAY_PRIVATE_KEY: k.appPrivateKey,
      ALIPAY_APP_CERT: k.appCert,
      ALIPAY_PUBLIC_CERT: k.alipayCert,
      ALIPAY_ROOT_CERT: k.rootCert,
    })
    const { res } = await login(undefined, app)
    expect(res.status, res.text).toBe(200)
  })

  it('a certificate SN the gateway does not know is refused (misconfigured, 500)', async () => {
    const k = await keys()
    const app = configured({
      ALIPAY_PRIVATE_KEY: k.appPrivateKey,
      ALIPAY_APP_CERT: k.alipayCert, // the wrong certificate
      ALIPAY_PUBLIC_CERT: k.alipayCert,
      ALIPAY_ROOT_CERT: k.rootCert,
    })
    expectError((await login(undefined, app)).res, 500, 'APP_CREDENTIALS_INVALID')
  })
})

describe('Alipay configuration', () => {
  const base = { ALIPAY_APP_ID: ALIPAY }
  it.each([
    [{ ALIPAY_APP_ID: '12345' }, 'ALIPAY_APP_ID'],
    [{ ...base }, 'ALIPAY_PRIVATE_KEY is not set'],
    [{ ...base, ALIPAY_PRIVATE_KEY: 'not a key' }, 'ALIPAY_PRIVATE_KEY is not'],
    [{ ...base, ALIPAY_PRIVATE_KEY: 'MIIB' }, 'ALIPAY_PRIVATE_KEY is not'],
  ])('%o: CONFIG_INVALID naming %s', (vars, named) => {
    expect(configError(production(vars as never))).toContain(named)
  })

  it('names the variable at fault for each key and mode mix-up', async () => {
    const k = await keys()
    const ok = { ...base, ALIPAY_PRIVATE_KEY: k.appPrivateKey }
    expect(configError(production(ok as never))).toContain('ALIPAY_PUBLIC_KEY is not set')
    const pub = { ALIPAY_PUBLIC_KEY: k.alipayPublicKey }
    expect(
      configError(production({ ...ok, ALIPAY_PUBLIC_KEY: k.appPrivateKey } as never)),
    ).toContain('ALIPAY_PUBLIC_KEY is not')
    expect(
      configError(production({ ...ok, ...pub, ALIPAY_ROOT_CERT: k.rootCert } as never)),
    ).toContain('ALIPAY_PUBLIC_KEY and ALIPAY_APP_CERT')
    expect(
      configError(
        production({
          ...ok,
          ALIPAY_APP_CERT: k.appCert,
          ALIPAY_PUBLIC_CERT: k.alipayCert,
        } as never),
      ),
    ).toContain('ALIPAY_ROOT_CERT is not set')
    expect(
      configError(production({ ...ok, ALIPAY_APP_CERT: 'garbage', ...pub } as never)),
    ).toContain('ALIPAY_APP_CERT is not')
    expect(configError(production({ ...ok, ...pub, ALIPAY_AES_KEY: 'short' } as never))).toContain(
      'ALIPAY_AES_KEY',
    )
    expect(
      configError(production({ ...ok, ...pub, ALIPAY_API_BASE: 'http://example.com' } as never)),
    ).toContain('ALIPAY_API_BASE')
  })

  it('without ALIPAY_AES_KEY the phone number is NOT_OFFERED', async () => {
    const k = await keys()
    const app = configured({
      ALIPAY_PRIVATE_KEY: k.appPrivateKey,
      ALIPAY_PUBLIC_KEY: k.alipayPublicKey,
    })
    const { res } = await login(undefined, app)
    const signed = await emulator('alipay/phone', { appId: ALIPAY, mobile: '13800138000' })
    expectError(
      await call('POST', '/auth/phone', { json: signed, token: res.body.token }, app),
      400,
      'NOT_OFFERED',
    )
  })
})

// The worker is what the dev entry serves: appWith keeps the linter honest about its use.
void appWith
