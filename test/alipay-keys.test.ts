// Alipay's keys as a deployment configures them: PKCS#8, PKCS#1 and bare
// base64 private keys, the certificate mode, and CONFIG_INVALID for each
// mistake. The emulator makes fresh keys per run; the tests read them from
// its control surface and configure the Worker with them.

import { describe, expect, it } from 'vitest'
import { pkcs1FromPkcs8 } from '../src/platforms/alipay/der'
import { certificateSn, certificates, rootCertSn } from '../src/platforms/alipay/keys'
import {
  ALIPAY,
  bytes,
  configured,
  type EmulatorKeys,
  emulator,
  keys,
  login,
  pem,
} from './alipay-helpers'
import { call, configError, expectError, kvKeys, production } from './helpers'

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
