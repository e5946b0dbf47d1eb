import type { Variables } from '../../env'
import { WxaAuthError } from '../../errors'
import { registerSecret } from '../../util/redact'
import { DEFAULT_TIMEOUT_MS } from '../caller'
import type { PlatformDefinition, PlatformSession, Upstream } from '../platform'
import { apiBase, text, whole } from '../variables'
import { pushClaims } from '../wechat/push-claims'
import { type AlipayApp, USER_ID_PREFIX } from './app'
import { ALIPAY_API_BASE, type GatewayKeys, gatewayCaller } from './gateway'
import {
  certificateSn,
  certificates,
  importSigningKey,
  importVerifyingKey,
  privateKeyDer,
  publicKeyDer,
  rootCertSn,
  rsa2Verify,
  signingString,
} from './keys'
import { aesKeyBytes, openPhone } from './phone'
import { type AlipaySettings, alipayRoutes } from './routes'

// Alipay AppIDs are 16 digits (2021…; sandbox 9021…).
const APP_ID = /^\d{16}$/
/**
 * How long a notification's claim is kept: Alipay retries a notification not
 * answered `success` for about 25 hours (4 m, 10 m, 10 m, 1 h, 2 h, 6 h, 15 h).
 */
export const DEFAULT_NOTIFY_CLAIM_TTL = 26 * 60 * 60 // 26 hours, seconds
interface KeyMaterial extends GatewayKeys {
  aes: CryptoKey | null
}

const invalid = (message: string, cause?: unknown) =>
  new WxaAuthError('CONFIG_INVALID', message, { cause })

/** `make`'s promise, made once; made again after it failed. */
function cached<T>(make: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined
  return () => {
    pending ??= make().catch((err: unknown) => {
      pending = undefined
      throw err
    })
    return pending
  }
}

/** Reads `name` with `parse`, or throws CONFIG_INVALID saying what it should be. */
function checked<T>(vars: Variables, name: string, parse: (value: string) => T, should: string) {
  const value = text(vars, name)
  if (value === undefined) return undefined
  try {
    return parse(value)
  } catch {
    throw invalid(`${name} is not ${should}.`)
  }
}

/** The keys the variables name, checked now; imported (async) on first use. */
function configuredKeys(vars: Variables): (() => Promise<KeyMaterial>) | undefined {
  const privateKey = checked(
    vars,
    'ALIPAY_PRIVATE_KEY',
    privateKeyDer,
    "the app's RSA private key (PKCS#8 or PKCS#1 PEM, or the bare base64 Alipay's key tool prints)",
  )
  const publicKey = checked(
    vars,
    'ALIPAY_PUBLIC_KEY',
    publicKeyDer,
    "Alipay's RSA public key (支付宝公钥: a PEM or the bare base64)",
  )
  const pem = 'a PEM certificate file as downloaded from the open platform'
  const appCert = checked(vars, 'ALIPAY_APP_CERT', certificates, pem)
  const publicCert = checked(vars, 'ALIPAY_PUBLIC_CERT', certificates, pem)
  const rootCert = checked(vars, 'ALIPAY_ROOT_CERT', certificates, pem)
  const aesText = text(vars, 'ALIPAY_AES_KEY')
  const aes = aesText === undefined ? undefined : aesKeyBytes(aesText)
  if (aes === null) {
    throw invalid(
      'ALIPAY_AES_KEY is not the content key (接口内容加密方式, AES): 24 base64 characters.',
    )
  }
  const certMode = appCert ?? publicCert ?? rootCert
  if (!privateKey) {
    if (publicKey || certMode || aes) throw invalid('ALIPAY_PRIVATE_KEY is not set.')
    return undefined
  }
  if (publicKey && certMode) {
    throw invalid(
      'ALIPAY_PUBLIC_KEY and ALIPAY_APP_CERT/ALIPAY_PUBLIC_CERT/ALIPAY_ROOT_CERT are both set: choose the public-key mode or the certificate mode.',
    )
  }
  if (!publicKey && !certMode) {
    throw invalid(
      'ALIPAY_PUBLIC_KEY is not set (or, in the certificate mode, ALIPAY_APP_CERT, ALIPAY_PUBLIC_CERT and ALIPAY_ROOT_CERT).',
    )
  }
  if (certMode && !(appCert && publicCert && rootCert)) {
    const missing = ['ALIPAY_APP_CERT', 'ALIPAY_PUBLIC_CERT', 'ALIPAY_ROOT_CERT'].find(
      (name) => !text(vars, name),
    )
    throw invalid(`${missing} is not set: the certificate mode needs all three certificates.`)
  }
  const rootSn = rootCert ? rootCertSn(rootCert) : undefined
  if (rootSn === '') throw invalid('ALIPAY_ROOT_CERT has no RSA certificate.')
  registerSecret(text(vars, 'ALIPAY_PRIVATE_KEY'))
  registerSecret(aesText)
  const verifyDer = publicKey?.der ?? (publicCert?.[0]?.spki as Uint8Array<ArrayBuffer>)
  return cached(async () => {
    try {
      return {
        sign: await importSigningKey(privateKey.der),
        verify: await importVerifyingKey(verifyDer),
        appCertSn: appCert?.[0] ? certificateSn(appCert[0]) : undefined,
        rootCertSn: rootSn,
        aes: aes ? await crypto.subtle.importKey('raw', aes, 'AES-CBC', false, ['decrypt']) : null,
      }
    } catch (err) {
      throw invalid('ALIPAY_PRIVATE_KEY or ALIPAY_PUBLIC_KEY could not be imported.', err)
    }
  })
}

/**
 * The keys of the emulator (`npm run dev`, no ALIPAY_PRIVATE_KEY): it makes
 * fresh ones per run and hands them to the development Worker only.
 */
function emulatorKeys(upstream: Upstream, appId: string) {
  const keys = upstream.keys
  if (!keys) return undefined
  return cached(async (): Promise<KeyMaterial> => {
    const k = await keys(appId)
    const aes = aesKeyBytes(k.aesKey ?? '')
    return {
      sign: await importSigningKey(privateKeyDer(k.appPrivateKey ?? '').der),
      verify: await importVerifyingKey(publicKeyDer(k.alipayPublicKey ?? '').der),
      aes: aes ? await crypto.subtle.importKey('raw', aes, 'AES-CBC', false, ['decrypt']) : null,
    }
  })
}

/** The user an `alipay.system.oauth.token` answer names: `open_id`, or an old app's `user_id`. */
export function alipayIdentity(answer: Record<string, unknown>): PlatformSession {
  const { open_id, user_id } = answer
  if (typeof open_id === 'string' && open_id !== '') return { openid: open_id }
  if (typeof user_id === 'string' && user_id !== '')
    return { openid: `${USER_ID_PREFIX}${user_id}` }
  throw new WxaAuthError('UPSTREAM_BAD_RESPONSE', undefined, {
    cause: new Error('alipay.system.oauth.token: neither open_id nor user_id'),
  })
}

/**
 * Alipay: `ALIPAY_APP_ID`, `ALIPAY_PRIVATE_KEY` and `ALIPAY_PUBLIC_KEY` (or
 * the certificate mode: `ALIPAY_APP_CERT`, `ALIPAY_PUBLIC_CERT`,
 * `ALIPAY_ROOT_CERT`), `ALIPAY_AES_KEY` for phone numbers, `ALIPAY_API_BASE`,
 * `ALIPAY_TIMEOUT_MS`. One app; login by `alipay.system.oauth.token`, no
 * session_key (no decrypt), the phone number from `my.getPhoneNumber`.
 */
export const alipay: PlatformDefinition<'alipay', AlipaySettings> = {
  name: 'alipay',
  apps(vars, { upstream }) {
    const ids = (text(vars, 'ALIPAY_APP_ID') ?? '').split(/\s+/).filter(Boolean)
    const keys = configuredKeys(vars)
    if (ids.length === 0) {
      if (keys) throw invalid('ALIPAY_APP_ID is not set, and ALIPAY_PRIVATE_KEY is.')
      return []
    }
    if (ids.length > 1) throw invalid('ALIPAY_APP_ID: one Alipay app per deployment.')
    const appId = ids[0] as string
    if (!APP_ID.test(appId)) throw invalid('ALIPAY_APP_ID is not an Alipay AppID (16 digits).')
    const baseUrl = apiBase(vars, 'ALIPAY_API_BASE') ?? ALIPAY_API_BASE
    const timeoutMs = whole(vars, 'ALIPAY_TIMEOUT_MS', 1, DEFAULT_TIMEOUT_MS)
    const material = keys ?? (upstream ? emulatorKeys(upstream, appId) : undefined)
    if (!material) {
      throw invalid('ALIPAY_PRIVATE_KEY is not set (the app private key, 应用私钥).')
    }
    const call = gatewayCaller({
      appId,
      keys: material,
      baseUrl,
      timeoutMs,
      ...(upstream ? { fetch: upstream.fetch } : {}),
    })
    const app: AlipayApp = {
      platform: 'alipay' as const,
      appId,
      async code2Session({ code }) {
        const answer = await call('alipay.system.oauth.token', {
          grant_type: 'authorization_code',
          code,
        })
        return alipayIdentity(answer)
      },
      async signedPhone(input) {
        const { verify, aes } = await material()
        if (!aes) throw new WxaAuthError('NOT_OFFERED')
        return openPhone(input, verify, aes)
      },
      async verifyNotify(fields) {
        const { verify } = await material()
        return rsa2Verify(verify, signingString(fields, ['sign', 'sign_type']), fields.sign)
      },
    }
    return [app]
  },
  logins: { code: { input: {} } },
  // `/alipay/events`, with an Alipay app: the notifications, each acted on once.
  settings: (vars, { claims }) =>
    text(vars, 'ALIPAY_APP_ID')
      ? {
          claims: pushClaims(claims, {
            secret: 'wxa-auth alipay notify',
            ttl: DEFAULT_NOTIFY_CLAIM_TTL,
          }),
        }
      : null,
  routes: alipayRoutes,
}
