// Alipay mini programs through the emulator's Alipay face: login, /me, the
// phone number and the cancellation notification end to end; forged and
// replayed messages; Alipay's refusals as the project's codes.

import { describe, expect, it } from 'vitest'
import { defaultUserId } from '../src/hooks'
import {
  ALIPAY,
  authCode,
  cancellation,
  configured,
  emulator,
  keys,
  login,
  notify,
} from './alipay-helpers'
import { call, expectError, kvKeys, newOpenid, served, testApp } from './helpers'

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

describe('Alipay account deletion', () => {
  it('deletes the account with a fresh auth code of the same user; another user’s is REAUTH_REQUIRED', async () => {
    const { openid, res } = await login()
    const token = res.body.token
    const stranger = await authCode(newOpenid('ali'))
    const refused = await call('DELETE', '/auth/account', { json: { code: stranger }, token })
    expectError(refused, 403, 'REAUTH_REQUIRED')
    const code = await authCode(openid)
    const deleted = await call('DELETE', '/auth/account', { json: { code }, token })
    expect(deleted.status, deleted.text).toBe(200)
    expectError(await call('GET', '/me', { token }), 401, 'SESSION_EXPIRED')
    expect(await kvKeys(`identity:alipay:${ALIPAY}:${openid}`)).toHaveLength(0)
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

  it('any other body a notification can carry: a clean 401, never a 5xx, and nothing happens', async () => {
    const { openid, res } = await login()
    const { fields } = await cancellation(openid)
    const bodies = [
      '',
      '%',
      '%zz=%',
      'sign=!!!&sign_type=RSA2',
      `sign=${'A'.repeat(4097)}`,
      new URLSearchParams({ ...fields, sign: `${fields.sign}=` }).toString(),
      new URLSearchParams({ ...fields, sign: fields.sign?.slice(0, 20) ?? '' }).toString(),
      new URLSearchParams({ ...fields, biz_content: '{' }).toString(),
      `${new URLSearchParams(fields)}&notify_id=again`,
      '\u0000\uffff'.repeat(100),
    ]
    for (const body of bodies) {
      const answer = await notify(body)
      expect(answer.status, body.slice(0, 40)).toBe(401)
      expect(answer.body?.error?.code, body.slice(0, 40)).toBe('EVENT_SIGNATURE_INVALID')
    }
    const plain = await call('POST', '/alipay/events', {
      body: new URLSearchParams(fields).toString(),
      headers: { 'Content-Type': 'text/plain' },
    })
    expect(plain.status).toBe(400)
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
