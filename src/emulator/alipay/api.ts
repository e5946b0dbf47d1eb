import type { Context, Hono } from 'hono'
import {
  CODE_TTL,
  type EmulatorState,
  type IssuedCode,
  newCode,
  randomBytes,
  rid,
} from '../wechat/state'
import { ECDSA_WITH_SHA256, issue, OTHER_ROOT_DN, ROOT_DN } from './certs'

const RSA2 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const
const GEN = { ...RSA2, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }
const encoder = new TextEncoder()
const b64 = (bytes: ArrayBuffer | Uint8Array) => {
  let binary = ''
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte)
  return btoa(binary)
}
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0))

/** What the emulator made for one run: Alipay's key pair, each app's, the content key, the certificates. */
export interface AlipayKeys {
  alipayPrivateKey: string
  alipayPublicKey: string
  appPrivateKey: string
  appPublicKey: string
  aesKey: string
  appCert: string
  alipayCert: string
  rootCert: string
  appCertSn: string
  rootCertSn: string
}

async function pair() {
  const keys = (await crypto.subtle.generateKey(GEN, true, ['sign', 'verify'])) as CryptoKeyPair
  return {
    privateKey: b64((await crypto.subtle.exportKey('pkcs8', keys.privateKey)) as ArrayBuffer),
    publicKey: b64((await crypto.subtle.exportKey('spki', keys.publicKey)) as ArrayBuffer),
    signer: keys.privateKey,
  }
}

const sign = async (pkcs8: string, content: string) =>
  b64(
    await crypto.subtle.sign(
      RSA2,
      await crypto.subtle.importKey('pkcs8', unb64(pkcs8), RSA2, false, ['sign']),
      encoder.encode(content),
    ),
  )

const verify = async (spki: string, content: string, signature: string) => {
  try {
    const key = await crypto.subtle.importKey('spki', unb64(spki), RSA2, false, ['verify'])
    return await crypto.subtle.verify(RSA2, key, unb64(signature), encoder.encode(content))
  } catch {
    return false
  }
}

/** Alipay's signing string: non-empty parameters but the `omitted`, sorted, `k=v&…`. */
const signed = (params: Record<string, string>, omitted: string[]) =>
  Object.keys(params)
    .filter((k) => !omitted.includes(k) && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&')

/** Beijing time, as Alipay writes it. */
const beijing = () =>
  new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ')

/**
 * Alipay's face: the open platform gateway (`POST /gateway.do`) answering
 * `alipay.system.oauth.token` with RSA2 both ways (the request's sign checked
 * with the app's public key, the answer signed with Alipay's key over the
 * inner object's text), fresh keys per run, single-use codes, `open_id` or an
 * old app's `user_id`; and, on the control surface, the run's keys and
 * certificates, a signed `my.getPhoneNumber` answer, a signed cancellation
 * notification, a forged answer.
 */
export function alipayApi(face: Hono, control: Hono, state: EmulatorState) {
  const { storage, now, apps, body } = state

  let making: Promise<AlipayKeys> | undefined
  async function keysOf(appId: string): Promise<AlipayKeys> {
    const stored = await storage.get<AlipayKeys>(`alipay:keys:${appId}`)
    if (stored) return stored
    making ??= (async () => {
      const [alipay, app, root] = await Promise.all([pair(), pair(), pair()])
      const serial = () =>
        BigInt(`0x${Array.from(randomBytes(8), (b) => b.toString(16).padStart(2, '0')).join('')}`)
      const subject = (cn: string) =>
        [...ROOT_DN.slice(0, 2), ['2.5.4.3', 'CN', cn]] as typeof ROOT_DN
      const rootCert = await issue({
        serial: serial(),
        issuer: ROOT_DN,
        subject: ROOT_DN,
        spki: unb64(root.publicKey),
        issuerKey: root.signer,
      })
      const other = await issue({
        serial: serial(),
        issuer: OTHER_ROOT_DN,
        subject: OTHER_ROOT_DN,
        spki: unb64(root.publicKey),
        issuerKey: root.signer,
        algorithm: ECDSA_WITH_SHA256,
      })
      const appCert = await issue({
        serial: serial(),
        issuer: ROOT_DN,
        subject: subject(appId),
        spki: unb64(app.publicKey),
        issuerKey: root.signer,
      })
      const alipayCert = await issue({
        serial: serial(),
        issuer: ROOT_DN,
        subject: subject('Alipay (emulator)'),
        spki: unb64(alipay.publicKey),
        issuerKey: root.signer,
      })
      const made: AlipayKeys = {
        alipayPrivateKey: alipay.privateKey,
        alipayPublicKey: alipay.publicKey,
        appPrivateKey: app.privateKey,
        appPublicKey: app.publicKey,
        aesKey: b64(randomBytes(16)),
        appCert: appCert.pem,
        alipayCert: alipayCert.pem,
        rootCert: rootCert.pem + other.pem,
        appCertSn: appCert.sn,
        rootCertSn: rootCert.sn,
      }
      await storage.put(`alipay:keys:${appId}`, made)
      return made
    })().finally(() => {
      making = undefined
    })
    return making
  }

  /** The answer Alipay gives: the inner object's exact text, and its sign beside it. */
  async function answer(keys: AlipayKeys, key: string, inner: object, forged = false) {
    const text = JSON.stringify(inner)
    const sign = await sign_(keys, text)
    // A forgery: the text changed after signing (a different user).
    const sent = forged ? text.replace(/"(open_id|user_id)":"/, '"$1":"forged') : text
    return new Response(`{"${key}":${sent},"sign":"${sign}"}`, {
      headers: { 'content-type': 'text/html;charset=utf-8' },
    })
  }
  const sign_ = (keys: AlipayKeys, text: string) => sign(keys.alipayPrivateKey, text)
  const refusal = (code: string, msg: string, sub_code: string, sub_msg: string) => ({
    code,
    msg,
    sub_code,
    sub_msg,
  })

  const gateway = async (c: Context) => {
    const form = Object.fromEntries(
      new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer())),
    ) as Record<string, string>
    const key = `${(form.method ?? '').replace(/\./g, '_')}_response`
    const appId = form.app_id ?? ''
    if (!apps.alipay.has(appId)) {
      return c.json({
        error_response: refusal(
          '40002',
          'Invalid Arguments',
          'isv.invalid-app-id',
          '无效的AppID参数',
        ),
      })
    }
    const keys = await keysOf(appId)
    if (!(await verify(keys.appPublicKey, signed(form, ['sign']), form.sign ?? ''))) {
      return c.json({
        error_response: refusal('40002', 'Invalid Arguments', 'isv.invalid-signature', '验签出错'),
      })
    }
    if (form.app_cert_sn !== undefined && form.app_cert_sn !== keys.appCertSn) {
      return c.json({
        error_response: refusal(
          '40002',
          'Invalid Arguments',
          'isv.invalid-app-cert-sn',
          '应用公钥证书序列号不匹配',
        ),
      })
    }
    if (
      (form.app_cert_sn !== undefined) !== (form.alipay_root_cert_sn !== undefined) ||
      (form.alipay_root_cert_sn !== undefined && form.alipay_root_cert_sn !== keys.rootCertSn)
    ) {
      return c.json({
        error_response: refusal(
          '40002',
          'Invalid Arguments',
          'isv.invalid-alipay-root-cert-sn',
          '支付宝根证书序列号不匹配',
        ),
      })
    }
    if (form.method !== 'alipay.system.oauth.token' || form.grant_type !== 'authorization_code') {
      return answer(
        keys,
        key,
        refusal('40002', 'Invalid Arguments', 'isv.invalid-method', '不支持的方法'),
      )
    }
    const issued = await storage.get<IssuedCode>(`code:${form.code ?? ''}`)
    if (!issued || issued.appId !== appId || issued.used || now() - issued.issuedAt > CODE_TTL) {
      return answer(
        keys,
        key,
        refusal('40002', 'Invalid Arguments', 'isv.code-invalid', '授权码code无效'),
      )
    }
    await storage.put(`code:${form.code}`, { ...issued, used: true })
    const refuse = await storage.get<{ code: string; sub_code: string }>(`alipay:refuse:${appId}`)
    if (refuse) {
      await storage.delete(`alipay:refuse:${appId}`)
      return answer(
        keys,
        key,
        refusal(refuse.code, 'Service Currently Unavailable', refuse.sub_code, '系统繁忙'),
      )
    }
    const mode = await storage.get<string>(`alipay:mode:${appId}`)
    const forge = (await storage.get<number>(`alipay:forge:${appId}`)) ?? 0
    if (forge > 0) await storage.put(`alipay:forge:${appId}`, forge - 1)
    return answer(
      keys,
      key,
      {
        ...(mode === 'user_id' ? { user_id: issued.openid } : { open_id: issued.openid }),
        access_token: `authusrB${newCode().slice(0, 24)}`,
        expires_in: 1_296_000,
        refresh_token: `authusrB${newCode().slice(0, 24)}`,
        re_expires_in: 2_592_000,
        auth_start: beijing(),
      },
      forge > 0,
    )
  }
  // On its own host in workerd; on the Node emulator's one host, beside WeChat's paths.
  face.post('/gateway.do', gateway)
  control.post('/gateway.do', gateway)

  /** The app a control request names, or the first Alipay app. */
  const appOf = (appId: unknown) =>
    typeof appId === 'string' && apps.alipay.has(appId) ? appId : apps.alipay.values().next().value

  const keysRoute = async (c: {
    req: { query: (k: string) => string | undefined }
    json: (o: object, s?: 400) => Response
  }) => {
    const appId = appOf(c.req.query('appId'))
    if (!appId) return c.json({ error: 'no Alipay app is configured' }, 400)
    const { alipayPrivateKey: _secret, ...shown } = await keysOf(appId)
    return c.json({ appId, ...shown })
  }
  face.get('/__emulator/alipay/keys', keysRoute)
  control.get('/__emulator/alipay/keys', keysRoute)

  control.post('/__emulator/alipay/apps', async (c) => {
    const { appId, identity, forge, refuse } = await body(c.req.raw)
    const id = appOf(appId)
    if (!id) return c.json({ error: 'no Alipay app is configured' }, 400)
    if (identity === 'user_id' || identity === 'open_id')
      await storage.put(`alipay:mode:${id}`, identity)
    if (typeof forge === 'number') await storage.put(`alipay:forge:${id}`, forge)
    // The next answer is this error (e.g. { code: '20000', sub_code: 'aop.unknow-error' }).
    if (typeof refuse === 'object' && refuse) await storage.put(`alipay:refuse:${id}`, refuse)
    return c.json({ ok: true })
  })

  // What my.getPhoneNumber gives the mini program: the number sealed with the
  // content key (AES-128-CBC, zero IV) and signed as it stands in JSON.
  control.post('/__emulator/alipay/phone', async (c) => {
    const { appId, mobile } = await body(c.req.raw)
    const id = appOf(appId)
    if (!id || typeof mobile !== 'string') return c.json({ error: 'appId and mobile' }, 400)
    const keys = await keysOf(id)
    const aes = await crypto.subtle.importKey('raw', unb64(keys.aesKey), 'AES-CBC', false, [
      'encrypt',
    ])
    const plain = encoder.encode(JSON.stringify({ code: '10000', msg: 'Success', mobile }))
    const response = b64(
      await crypto.subtle.encrypt({ name: 'AES-CBC', iv: new Uint8Array(16) }, aes, plain),
    )
    return c.json({ response, sign: await sign_(keys, JSON.stringify(response)) })
  })

  // A cancellation (用户授权取消) as Alipay posts it to the app's gateway URL.
  control.post('/__emulator/alipay/notify', async (c) => {
    const { appId, openid, notifyId, msgMethod } = await body(c.req.raw)
    const id = appOf(appId)
    if (!id || typeof openid !== 'string') return c.json({ error: 'appId and openid' }, 400)
    const keys = await keysOf(id)
    const mode = await storage.get<string>(`alipay:mode:${id}`)
    const fields: Record<string, string> = {
      notify_id: typeof notifyId === 'string' ? notifyId : `${rid()}${rid()}`,
      utc_timestamp: String(now() * 1000),
      msg_method: typeof msgMethod === 'string' ? msgMethod : 'alipay.open.auth.userauth.cancelled',
      app_id: id,
      version: '1.1',
      biz_content: JSON.stringify({
        ...(mode === 'user_id' ? { user_id: openid } : { open_id: openid }),
        cancel_time: beijing(),
      }),
      charset: 'utf-8',
      sign_type: 'RSA2',
    }
    fields.sign = await sign_(keys, signed(fields, ['sign', 'sign_type']))
    return c.json({ body: new URLSearchParams(fields).toString(), fields })
  })
}
