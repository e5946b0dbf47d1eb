import { DurableObject } from 'cloudflare:workers'
import { Hono } from 'hono'
import type { WxaBindings } from '../config'
import { buildPush, type PushFormat, type PushMode } from './push'
import { EMULATOR_APP_ID, EMULATOR_APP_SECRET } from './stub'

export const CODE_TTL = 5 * 60 // seconds, as wx.login codes
export const RATE_LIMIT = 100 // code2Session calls per user per minute
export const DEFAULT_HANG_MS = 30_000
export const ACCESS_TOKEN_LIFETIME = 2 * 60 * 60 // seconds, as WeChat's expires_in
export const PHONE_CODE_TTL = 5 * 60 // seconds

/**
 * Per-user faults of code2Session and getuserphonenumber. `spend` uses the
 * code and then answers 502, as a gateway does when WeChat's answer is lost.
 */
const FAULTS = ['busy', 'hang', 'html', 'http500', 'truncated', 'spend'] as const
type Fault = (typeof FAULTS)[number]

interface EmulatedUser {
  openid: string
  unionid?: string
  sessionKey: string
  blocked: boolean
  fault?: { mode: Fault; times: number | null; hangMs: number }
  window: { minute: number; calls: number }
  /** code2Session calls answered for this user, all outcomes. */
  calls: number
}

interface IssuedCode {
  openid: string
  /** The app the code was issued for; it works for that app only. */
  appId: string
  issuedAt: number
  used: boolean
}

const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n))
const newSessionKey = () => btoa(String.fromCharCode(...randomBytes(16)))
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const newCode = () => Array.from(randomBytes(32), (b) => ALPHABET[b % ALPHABET.length]).join('')
const rid = () => Array.from(randomBytes(6), (b) => b.toString(16).padStart(2, '0')).join('')

/** WeChat answers this API with a JSON body labelled text/plain. */
const wx = (body: object) =>
  new Response(JSON.stringify(body), { headers: { 'content-type': 'text/plain' } })
const wxError = (errcode: number, errmsg: string) =>
  wx({ errcode, errmsg: `${errmsg} rid: ${rid()}` })

/** The stable access token the emulator currently honours, and its switches. */
interface AccessTokenState {
  current: string
  expiresAt: number
  /** Set by the `expire` switch: calls with `current` answer 42001. */
  expired: boolean
}

interface PhoneCode {
  openid: string
  phoneNumber: string
  issuedAt: number
  used: boolean
}

const OPENID = /^[\w-]{1,64}$/
const EVENT_NAME = /^\w{1,64}$/
/** The mini program's original id (ToUserName) and WeChat's push account (FromUserName). */
export const PUSH_TO = 'gh_0000emulator0'
export const PUSH_FROM = 'o-emulator-push-service'
const PHONE = /^\+?\d{5,20}$/
const encoder = new TextEncoder()
const hex = (bytes: ArrayBuffer) =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('')
const base64 = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))

/**
 * What the mini program receives from wx.getUserInfo and friends, made the way
 * WeChat makes it: AES-128-CBC/PKCS#7 under the session_key, a fresh iv, and
 * `signature = hex(sha1(rawData + session_key))`.
 */
async function sealUserData(sessionKey: string, data: object, watermark: object) {
  const keyBytes = Uint8Array.from(atob(sessionKey), (ch) => ch.charCodeAt(0))
  const key = await crypto.subtle.importKey('raw', keyBytes, 'AES-CBC', false, ['encrypt'])
  const iv = randomBytes(16)
  const plain = encoder.encode(JSON.stringify({ ...data, watermark }))
  const encrypted = await crypto.subtle.encrypt({ name: 'AES-CBC', iv }, key, plain)
  const rawData = JSON.stringify(data)
  const signature = hex(await crypto.subtle.digest('SHA-1', encoder.encode(rawData + sessionKey)))
  return { encryptedData: base64(encrypted), iv: base64(iv), rawData, signature }
}

/** checkSessionKey's signature, computed here on its own: HMAC key = the base64 text. */
async function expectedSignature(sessionKey: string): Promise<string> {
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
export class WeChatEmulator extends DurableObject<WxaBindings> {
  readonly #app = new Hono()

  constructor(ctx: DurableObjectState, env: WxaBindings) {
    super(ctx, env)
    const app = this.#app
    const storage = ctx.storage
    const now = () => Math.floor(Date.now() / 1000)
    const getUser = (openid: string) => storage.get<EmulatedUser>(`user:${openid}`)
    const putUser = (user: EmulatedUser) => storage.put(`user:${user.openid}`, user)
    // It plays WeChat for every app the Worker is configured with.
    // As the config reads it: an empty WECHAT_APP_ID means the emulator's own AppID.
    const appIds = new Set((env.WECHAT_APP_ID?.trim() || EMULATOR_APP_ID).split(/\s+/))

    async function ensureUser(openid: string): Promise<EmulatedUser> {
      const user = (await getUser(openid)) ?? {
        openid,
        sessionKey: newSessionKey(),
        blocked: false,
        window: { minute: 0, calls: 0 },
        calls: 0,
      }
      await putUser(user)
      return user
    }

    /** The user's fault, if one is set: its answer, after `spend` when it spends the code. */
    async function injectFault(
      user: EmulatedUser,
      spend: () => Promise<void>,
    ): Promise<Response | null> {
      const fault = user.fault
      if (!fault) return null
      if (fault.times !== null && --fault.times <= 0) delete user.fault
      await putUser(user)
      switch (fault.mode) {
        case 'busy':
          return wxError(-1, 'system error')
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
          return wxError(-1, 'system error')
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

    // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
    app.get('/sns/jscode2session', async (c) => {
      const q = c.req.query()
      if (!appIds.has(q.appid ?? '')) return wxError(40013, 'invalid appid')
      if (q.secret !== EMULATOR_APP_SECRET) return wxError(40125, 'invalid appsecret')
      if (q.grant_type !== 'authorization_code') return wxError(40002, 'invalid grant_type')
      if (!q.js_code) return wxError(41008, 'missing code')
      const issued = await storage.get<IssuedCode>(`code:${q.js_code}`)
      if (!issued || issued.appId !== q.appid) return wxError(40029, 'invalid code')
      const user = await getUser(issued.openid)
      if (!user) return wxError(40029, 'invalid code')
      user.calls++
      const failed = await injectFault(user, () =>
        storage.put(`code:${q.js_code}`, { ...issued, used: true }),
      )
      if (failed) return failed
      const minute = Math.floor(now() / 60)
      if (user.window.minute !== minute) user.window = { minute, calls: 0 }
      user.window.calls++
      await putUser(user)
      if (user.window.calls > RATE_LIMIT) return wxError(45011, 'api minute-quota reach limit')
      if (issued.used) return wxError(40163, 'code been used')
      if (now() - issued.issuedAt > CODE_TTL) return wxError(40029, 'invalid code')
      if (user.blocked) return wxError(40226, 'invalid scope, high risk user')
      await storage.put(`code:${q.js_code}`, { ...issued, used: true })
      return wx({
        session_key: user.sessionKey,
        openid: user.openid,
        ...(user.unionid ? { unionid: user.unionid } : {}),
      })
    })

    // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
    app.post('/cgi-bin/stable_token', async (c) => {
      const { grant_type, appid, secret, force_refresh } = await body(c.req.raw)
      await storage.put(
        'stableTokenCalls',
        ((await storage.get<number>('stableTokenCalls')) ?? 0) + 1,
      )
      if (grant_type !== 'client_credential') return wxError(40002, 'invalid grant_type')
      if (typeof appid !== 'string' || !appIds.has(appid)) return wxError(40013, 'invalid appid')
      if (secret !== EMULATOR_APP_SECRET) return wxError(40125, 'invalid appsecret')
      let state = await storage.get<AccessTokenState>(`accessToken:${appid}`)
      if (force_refresh === true || !state || state.expired || now() >= state.expiresAt) {
        const lifetime = (await storage.get<number>('accessTokenLifetime')) ?? ACCESS_TOKEN_LIFETIME
        state = { current: `emu_${newCode()}`, expiresAt: now() + lifetime, expired: false }
        await storage.put(`accessToken:${appid}`, state)
      }
      return wx({ access_token: state.current, expires_in: state.expiresAt - now() })
    })

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

    // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/phone-number/getPhoneNumber.html
    app.post('/wxa/business/getuserphonenumber', async (c) => {
      const token = await rejectToken(c.req.query('access_token'))
      if (token instanceof Response) return token
      const { code, openid } = await body(c.req.raw)
      if (typeof code !== 'string' || !code) return wxError(41008, 'missing code')
      if (await storage.get<boolean>('phoneQuotaExhausted')) {
        return wxError(1400001, 'the phone number quota is exhausted')
      }
      const issued = await storage.get<PhoneCode>(`phone:${code}`)
      if (!issued || issued.used || now() - issued.issuedAt > PHONE_CODE_TTL) {
        return wxError(40029, 'invalid code')
      }
      // WeChat documents no errcode of its own for a code of another user: it is not a valid code for this one.
      if (openid !== undefined && openid !== issued.openid) {
        return wxError(40029, 'invalid code, openid not match')
      }
      const owner = await getUser(issued.openid)
      const failed =
        owner &&
        (await injectFault(owner, () => storage.put(`phone:${code}`, { ...issued, used: true })))
      if (failed) return failed
      await storage.put(`phone:${code}`, { ...issued, used: true })
      const pure = issued.phoneNumber.replace(/^\+86/, '')
      return wx({
        errcode: 0,
        errmsg: 'ok',
        phone_info: {
          phoneNumber: issued.phoneNumber,
          purePhoneNumber: pure,
          countryCode: '86',
          watermark: { timestamp: now(), appid: token.appid },
        },
      })
    })

    /** The user of a checksession-style call whose signature is right, or WeChat's refusal. */
    async function signedUser(q: Record<string, string>): Promise<EmulatedUser | Response> {
      const token = await rejectToken(q.access_token)
      if (token instanceof Response) return token
      const user = q.openid ? await getUser(q.openid) : undefined
      if (!user) return wxError(40003, 'invalid openid')
      if (
        q.sig_method !== 'hmac_sha256' ||
        q.signature !== (await expectedSignature(user.sessionKey))
      ) {
        return wxError(87009, 'invalid signature')
      }
      return user
    }

    // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/checkSessionKey.html
    app.get('/wxa/checksession', async (c) => {
      const user = await signedUser(c.req.query())
      return user instanceof Response ? user : wx({ errcode: 0, errmsg: 'ok' })
    })

    // https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/ResetUserSessionKey.html
    app.get('/wxa/resetusersessionkey', async (c) => {
      const user = await signedUser(c.req.query())
      if (user instanceof Response) return user
      user.sessionKey = newSessionKey()
      await putUser(user)
      return wx({ errcode: 0, errmsg: 'ok', openid: user.openid, session_key: user.sessionKey })
    })

    app.post('/__emulator/user-data', async (c) => {
      const { openid, data, appid } = await body(c.req.raw)
      const user = typeof openid === 'string' ? await getUser(openid) : undefined
      if (!user) return c.json({ error: 'no such user: log in first' }, 404)
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        return c.json({ error: 'data: a JSON object' }, 400)
      }
      const watermark = {
        timestamp: now(),
        appid: typeof appid === 'string' ? appid : (appIds.values().next().value as string),
      }
      return c.json(await sealUserData(user.sessionKey, data, watermark))
    })

    app.post('/__emulator/phone-code', async (c) => {
      const { openid, phoneNumber, age } = await body(c.req.raw)
      const user = typeof openid === 'string' ? await getUser(openid) : undefined
      if (!user) return c.json({ error: 'no such user: log in first' }, 404)
      if (typeof phoneNumber !== 'string' || !PHONE.test(phoneNumber)) {
        return c.json({ error: 'phoneNumber: 5 to 20 digits, optionally after +' }, 400)
      }
      const code = newCode()
      const issuedAt = now() - (typeof age === 'number' ? age : 0)
      await storage.put(`phone:${code}`, {
        openid: user.openid,
        phoneNumber,
        issuedAt,
        used: false,
      } satisfies PhoneCode)
      return c.json({ code })
    })

    const tokenStats = async () => ({
      stableTokenCalls: (await storage.get<number>('stableTokenCalls')) ?? 0,
    })

    app.post('/__emulator/access-token', async (c) => {
      const { invalidate, expire, lifetime } = await body(c.req.raw)
      for (const appid of appIds) {
        const state = await storage.get<AccessTokenState>(`accessToken:${appid}`)
        if (!state) continue
        if (invalidate === true) state.current = `emu_${newCode()}`
        if (expire === true) state.expired = true
        await storage.put(`accessToken:${appid}`, state)
      }
      if (typeof lifetime === 'number') await storage.put('accessTokenLifetime', lifetime)
      if (lifetime === null) await storage.delete('accessTokenLifetime')
      return c.json(await tokenStats())
    })

    app.get('/__emulator/access-token', async (c) => c.json(await tokenStats()))

    // The paid phone-number quota: `{"exhausted": true}` makes getuserphonenumber answer 1400001.
    app.post('/__emulator/phone-quota', async (c) => {
      const { exhausted } = await body(c.req.raw)
      await storage.put('phoneQuotaExhausted', exhausted === true)
      return c.json({ exhausted: exhausted === true })
    })

    app.post('/__emulator/code', async (c) => {
      const { openid, unionid, age, rotateSessionKey, appId } = await body(c.req.raw)
      if (typeof openid !== 'string' || !OPENID.test(openid)) {
        return c.json({ error: 'openid: 1 to 64 letters, digits, _ or -' }, 400)
      }
      const forApp = typeof appId === 'string' ? appId : (appIds.values().next().value as string)
      if (!appIds.has(forApp)) {
        return c.json({ error: `appId: not one of ${[...appIds].join(', ')}` }, 400)
      }
      const user = await ensureUser(openid)
      if (typeof unionid === 'string') user.unionid = unionid
      if (rotateSessionKey === true) user.sessionKey = newSessionKey()
      await putUser(user)
      const code = newCode()
      const issuedAt = now() - (typeof age === 'number' ? age : 0)
      await storage.put(`code:${code}`, {
        openid,
        appId: forApp,
        issuedAt,
        used: false,
      } satisfies IssuedCode)
      return c.json({ code })
    })

    app.post('/__emulator/users/:openid', async (c) => {
      const openid = c.req.param('openid')
      if (!OPENID.test(openid)) return c.json({ error: 'bad openid' }, 400)
      const { blocked, unionid, fault, times, hangMs } = await body(c.req.raw)
      const user = await ensureUser(openid)
      if (typeof blocked === 'boolean') user.blocked = blocked
      if (typeof unionid === 'string') user.unionid = unionid
      if (unionid === null) delete user.unionid
      if (typeof fault === 'string' && FAULTS.includes(fault as Fault)) {
        user.fault = {
          mode: fault as Fault,
          times: typeof times === 'number' ? times : null,
          hangMs: typeof hangMs === 'number' ? hangMs : DEFAULT_HANG_MS,
        }
      }
      if (fault === null || fault === 'none') delete user.fault
      await putUser(user)
      const { sessionKey: _secret, ...visible } = user
      return c.json(visible)
    })

    app.post('/__emulator/users/:openid/rotate-session-key', async (c) => {
      const user = await getUser(c.req.param('openid'))
      if (!user) return c.json({ error: 'no such user' }, 404)
      user.sessionKey = newSessionKey()
      await putUser(user)
      return c.json({ ok: true })
    })

    app.get('/__emulator/users/:openid', async (c) => {
      const user = await getUser(c.req.param('openid'))
      if (!user) return c.json({ error: 'no such user' }, 404)
      const { sessionKey: _secret, ...visible } = user
      return c.json(visible)
    })

    // A message push as WeChat would send it to /wechat/events, signed (and
    // encrypted) with the Token and EncodingAESKey the Worker is configured with.
    app.post('/__emulator/push', async (c) => {
      const token = env.WECHAT_EVENT_TOKEN
      if (!token) return c.json({ error: 'WECHAT_EVENT_TOKEN is not set' }, 409)
      const input = await body(c.req.raw)
      const { openid, revokeInfo, createTime, age } = input
      const event = input.event ?? 'user_authorization_revoke'
      const format = input.format ?? 'json'
      const mode = input.mode ?? 'plain'
      const appId = input.appId ?? (appIds.values().next().value as string)
      if (typeof openid !== 'string' || !OPENID.test(openid)) {
        return c.json({ error: 'openid: 1 to 64 letters, digits, _ or -' }, 400)
      }
      if (typeof event !== 'string' || !EVENT_NAME.test(event)) {
        return c.json({ error: 'event: a WeChat event name' }, 400)
      }
      if (format !== 'json' && format !== 'xml')
        return c.json({ error: 'format: json or xml' }, 400)
      if (mode !== 'plain' && mode !== 'compatible' && mode !== 'safe') {
        return c.json({ error: 'mode: plain, compatible or safe' }, 400)
      }
      if (typeof appId !== 'string' || !/^wx\w{1,40}$/.test(appId)) {
        return c.json({ error: 'appId: an AppID' }, 400)
      }
      if (mode !== 'plain' && !env.WECHAT_EVENT_AES_KEY) {
        return c.json({ error: 'WECHAT_EVENT_AES_KEY is not set' }, 409)
      }
      const timestamp = now() - (typeof age === 'number' ? age : 0)
      const fields: Record<string, string | number> = {
        ToUserName: PUSH_TO,
        FromUserName: PUSH_FROM,
        CreateTime: typeof createTime === 'number' ? createTime : timestamp,
        MsgType: 'event',
        Event: event,
        OpenID: openid,
        AppID: appId,
        ...(typeof revokeInfo === 'string' ? { RevokeInfo: revokeInfo } : {}),
      }
      const settings = {
        token,
        ...(env.WECHAT_EVENT_AES_KEY ? { aesKey: env.WECHAT_EVENT_AES_KEY } : {}),
      }
      return c.json(
        await buildPush(settings, {
          fields,
          appId,
          format: format as PushFormat,
          mode: mode as PushMode,
          timestamp,
        }),
      )
    })

    app.notFound((c) =>
      wxError(404, `emulator: no route ${c.req.method} ${new URL(c.req.url).pathname}`),
    )
  }

  override fetch(request: Request): Response | Promise<Response> {
    return this.#app.fetch(request)
  }
}
