import { bytesOf } from '../../util/base64url'
import { hex } from '../../util/hex'
import type { EmulatorStorage } from '../storage'
import { EMULATOR_APP_ID, EMULATOR_APP_SECRET } from '../stub'

export const CODE_TTL = 5 * 60 // seconds, as wx.login codes
export const RATE_LIMIT = 100 // code2Session calls per user per minute
export const DEFAULT_HANG_MS = 30_000
export const ACCESS_TOKEN_LIFETIME = 2 * 60 * 60 // seconds, as WeChat's expires_in
export const PHONE_CODE_TTL = 5 * 60 // seconds

/**
 * Per-user faults of code2Session and getuserphonenumber. `spend` uses the
 * code and then answers 502, as a gateway does when WeChat's answer is lost.
 */
export const FAULTS = ['busy', 'hang', 'html', 'http500', 'truncated', 'spend'] as const
export type Fault = (typeof FAULTS)[number]

export interface EmulatedUser {
  /** Absent for WeChat users (their keys are `user:<openid>`). */
  platform?: EmulatedPlatform
  openid: string
  unionid?: string
  sessionKey: string
  blocked: boolean
  fault?: { mode: Fault; times: number | null; hangMs: number }
  window: { minute: number; calls: number }
  /** code2Session calls answered for this user, all outcomes. */
  calls: number
  /** Douyin: the openid its `anonymousCode`s stand for. */
  anonymousOpenid?: string
}

export interface IssuedCode {
  openid: string
  /** The app the code was issued for; it works for that app only. */
  appId: string
  issuedAt: number
  used: boolean
}

export const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n))
export const newSessionKey = () => btoa(String.fromCharCode(...randomBytes(16)))
export const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
export const newCode = () =>
  Array.from(randomBytes(32), (b) => ALPHABET[b % ALPHABET.length]).join('')
export const rid = () => Array.from(randomBytes(6), (b) => b.toString(16).padStart(2, '0')).join('')

/** WeChat answers this API with a JSON body labelled text/plain. */
export const wx = (body: object) =>
  new Response(JSON.stringify(body), { headers: { 'content-type': 'text/plain' } })
export const wxError = (errcode: number, errmsg: string) =>
  wx({ errcode, errmsg: `${errmsg} rid: ${rid()}` })

/** The stable access token the emulator currently honours, and its switches. */
export interface AccessTokenState {
  current: string
  expiresAt: number
  /** Set by the `expire` switch: calls with `current` answer 42001. */
  expired: boolean
}

export interface PhoneCode {
  openid: string
  phoneNumber: string
  issuedAt: number
  used: boolean
}

export const OPENID = /^[\w-]{1,64}$/
export const EVENT_NAME = /^\w{1,64}$/
/** The mini program's original id (ToUserName) and WeChat's push account (FromUserName). */
export const PUSH_TO = 'gh_0000emulator0'
export const PUSH_FROM = 'o-emulator-push-service'
export const PHONE = /^\+?\d{5,20}$/
export const encoder = new TextEncoder()
export const base64 = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))

/**
 * What the mini program receives from wx.getUserInfo and friends, made the way
 * WeChat makes it: AES-128-CBC/PKCS#7 under the session_key, a fresh iv, and
 * `signature = hex(sha1(rawData + session_key))`.
 */
export async function sealUserData(sessionKey: string, data: object, watermark: object) {
  const keyBytes = bytesOf(atob(sessionKey))
  const key = await crypto.subtle.importKey('raw', keyBytes, 'AES-CBC', false, ['encrypt'])
  const iv = randomBytes(16)
  const plain = encoder.encode(JSON.stringify({ ...data, watermark }))
  const encrypted = await crypto.subtle.encrypt({ name: 'AES-CBC', iv }, key, plain)
  const rawData = JSON.stringify(data)
  const signature = hex(await crypto.subtle.digest('SHA-1', encoder.encode(rawData + sessionKey)))
  return { encryptedData: base64(encrypted), iv: base64(iv), rawData, signature }
}

/** checkSessionKey's signature, computed here on its own: HMAC key = the base64 text. */
export async function expectedSignature(sessionKey: string): Promise<string> {
  const hmac = { name: 'HMAC', hash: 'SHA-256' }
  const key = await crypto.subtle.importKey('raw', encoder.encode(sessionKey), hmac, false, [
    'sign',
  ])
  return hex(await crypto.subtle.sign('HMAC', key, new Uint8Array(0)))
}

/**
 * A stand-in for api.weixin.qq.com, for development and tests only. It speaks
 * WeChat's request and response shapes and error codes, and keeps per-user
 * state (session_key, single-use codes, rate windows, faults) in its storage.
 * `/__emulator/*` is its control surface; see the README.
 */

/** What the emulator's environment may hold: the apps it plays each platform for, the push settings. */
export interface EmulatorEnv
  extends Partial<Record<`${'WECHAT' | 'DOUYIN' | 'QQ'}_APP_SECRET${'' | 'S'}`, string>> {
  WECHAT_APP_ID?: string
  DOUYIN_APP_ID?: string
  QQ_APP_ID?: string
  ALIPAY_APP_ID?: string
  WECHAT_EVENT_TOKEN?: string
  WECHAT_EVENT_AES_KEY?: string
}

/** The platforms the emulator plays: its own list, so that a platform need not have an emulator. */
export const EMULATED_PLATFORMS = ['wechat', 'douyin', 'qq', 'alipay'] as const
export type EmulatedPlatform = (typeof EMULATED_PLATFORMS)[number]

const ids = (value: string | undefined) => new Set((value ?? '').split(/\s+/).filter(Boolean))

/** The emulator's state and the helpers both its faces use. */
export function emulatorState(storage: EmulatorStorage, env: EmulatorEnv) {
  const now = () => Math.floor(Date.now() / 1000)
  // Each platform's users are its own: the same openid on two platforms is two people.
  const userKey = (openid: string, platform: EmulatedPlatform) =>
    platform === 'wechat' ? `user:${openid}` : `${platform}:user:${openid}`
  const getUser = (openid: string, platform: EmulatedPlatform = 'wechat') =>
    storage.get<EmulatedUser>(userKey(openid, platform))
  const putUser = (user: EmulatedUser) =>
    storage.put(userKey(user.openid, user.platform ?? 'wechat'), user)
  // It plays each platform for every app of it the Worker is configured with.
  // As the config reads it: an empty WECHAT_APP_ID means the emulator's own AppID.
  const apps: Record<EmulatedPlatform, Set<string>> = {
    wechat: ids(env.WECHAT_APP_ID?.trim() || EMULATOR_APP_ID),
    douyin: ids(env.DOUYIN_APP_ID),
    qq: ids(env.QQ_APP_ID),
    alipay: ids(env.ALIPAY_APP_ID),
  }
  const appIds = apps.wechat
  /** The platform an AppID is configured on, if any. */
  const platformOf = (appId: unknown) =>
    EMULATED_PLATFORMS.find((platform) => typeof appId === 'string' && apps[platform].has(appId))

  /**
   * The AppSecret the emulator expects of `appId`, as the app is configured
   * with it (`<P>_APP_SECRETS`, then `<P>_APP_SECRET`): a Node emulator runs
   * beside a server that has one. None configured: the stand-in secret, as
   * the dev Worker runs it.
   */
  function secretOf(appId: string): string {
    const platform = platformOf(appId) ?? 'wechat'
    const prefix = platform.toUpperCase() as 'WECHAT' | 'DOUYIN' | 'QQ'
    for (const pair of env[`${prefix}_APP_SECRETS`]?.trim().split(/\s+/) ?? []) {
      const at = pair.indexOf(':')
      if (pair.slice(0, at) === appId) return pair.slice(at + 1)
    }
    return env[`${prefix}_APP_SECRET`]?.trim() || EMULATOR_APP_SECRET
  }

  async function ensureUser(openid: string, platform: EmulatedPlatform = 'wechat') {
    const user: EmulatedUser = (await getUser(openid, platform)) ?? {
      ...(platform === 'wechat' ? {} : { platform }),
      openid,
      sessionKey: newSessionKey(),
      blocked: false,
      window: { minute: 0, calls: 0 },
      calls: 0,
      ...(platform === 'douyin' ? { anonymousOpenid: `anon-${newCode().slice(0, 16)}` } : {}),
    }
    await putUser(user)
    return user
  }

  /**
   * The user's fault, if one is set: its answer, after `spend` when it spends
   * the code. `busy` is the platform's "system busy" answer.
   */
  async function injectFault(
    user: EmulatedUser,
    spend: () => Promise<void>,
    busy: () => Response = () => wxError(-1, 'system error'),
  ): Promise<Response | null> {
    const fault = user.fault
    if (!fault) return null
    if (fault.times !== null && --fault.times <= 0) delete user.fault
    await putUser(user)
    switch (fault.mode) {
      case 'busy':
        return busy()
      case 'html':
        return new Response('<html><body><h1>Service Unavailable</h1></body></html>', {
          headers: { 'content-type': 'text/html' },
        })
      case 'http500':
        return new Response('Internal Server Error', { status: 500 })
      case 'truncated':
        return new Response(`{"openid":"${user.openid}","session_ke`, {
          headers: { 'content-type': 'text/plain' },
        })
      case 'spend':
        await spend()
        return new Response('<html><body><h1>502 Bad Gateway</h1></body></html>', {
          status: 502,
          headers: { 'content-type': 'text/html' },
        })
      case 'hang':
        await new Promise((resolve) => setTimeout(resolve, fault.hangMs))
        return busy()
    }
  }

  async function body(req: Request): Promise<Record<string, unknown>> {
    try {
      const parsed: unknown = await req.json()
      return typeof parsed === 'object' && parsed !== null
        ? (parsed as Record<string, unknown>)
        : {}
    } catch {
      return {}
    }
  }

  /** WeChat's answer to a call with a bad access token, or the app whose token it is. */
  async function rejectToken(token: string | undefined): Promise<Response | { appid: string }> {
    if (!token) return wxError(41001, 'access_token missing')
    for (const appid of appIds) {
      const state = await storage.get<AccessTokenState>(`accessToken:${appid}`)
      if (state?.current !== token) continue
      if (state.expired || now() >= state.expiresAt) return wxError(42001, 'access_token expired')
      return { appid }
    }
    return wxError(40001, 'invalid credential, access_token is invalid or not latest')
  }

  return {
    storage,
    env,
    now,
    getUser,
    putUser,
    apps,
    appIds,
    platformOf,
    secretOf,
    ensureUser,
    injectFault,
    body,
    rejectToken,
  }
}

export type EmulatorState = ReturnType<typeof emulatorState>
