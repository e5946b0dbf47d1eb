import type { PlatformName } from '../env'
import { emulatorStub } from './stub'

/** Where {@link mountEmulator} puts the emulator's control surface by default. */
export const DEFAULT_EMULATOR_PATH = '/__emulator'

/** The binding the emulator needs in the host app's env (wrangler.toml `[env.dev]`). */
export interface EmulatorBindings {
  WECHAT_EMULATOR?: DurableObjectNamespace
}

/** Anything that answers a Request: `SELF`, a service binding, `{ fetch: (r) => app.fetch(r, env) }`. */
export interface EmulatorFetcher {
  fetch(request: Request): Response | Promise<Response>
}

/**
 * How tests reach the emulator:
 * - the Worker's env (it has the `WECHAT_EMULATOR` binding): straight to the Durable Object;
 * - the base URL of a running Worker that mounted it (`http://127.0.0.1:8787`);
 * - a fetcher for such a Worker (`SELF` in the Workers Vitest integration).
 */
export type EmulatorTarget = string | URL | EmulatorBindings | EmulatorFetcher

export interface EmulatorClientOptions {
  /** Where the Worker mounted the control surface (for a URL or a fetcher). Default `/__emulator`. */
  path?: string
}

/** A fresh login code: what `wx.login()` (`tt.login()`, `qq.login()`) gives the mini program. */
export interface LoginCodeOptions {
  /** The app the code is for (one of `WECHAT_APP_ID`, `DOUYIN_APP_ID`, `QQ_APP_ID`); it picks the platform. */
  appId?: string
  /** Without `appId`: the first app of this platform. Default: WeChat's first app. */
  platform?: PlatformName
  /** Gives the user this unionid (WeChat sends it when the app is on an Open Platform account). */
  unionid?: string
  /** A new session_key for the user, as a later `wx.login()` can give. */
  rotateSessionKey?: boolean
  /** Back-dates the code, in seconds (codes live 5 minutes). */
  age?: number
}

/** What the mini program gets from `wx.getUserInfo` and friends, sealed with the user's session_key. */
export interface SealedUserData {
  encryptedData: string
  iv: string
  rawData: string
  signature: string
}

/** Which platform's user a call is about (each platform has its own users). @default 'wechat' */
export interface UserOptions {
  platform?: PlatformName
}

/** What `tt.login()` gives on Douyin: the code and an anonymous code; elsewhere the code alone. */
export interface LoginCodes {
  code: string
  anonymousCode?: string
}

/** A change to an emulated user; `fault` makes code2Session misbehave, `times` times or until `none`. */
export interface EmulatedUserChange extends UserOptions {
  blocked?: boolean
  unionid?: string | null
  fault?: 'busy' | 'hang' | 'html' | 'http500' | 'truncated' | 'spend' | 'none' | null
  times?: number
  hangMs?: number
}

/** An emulated user as the emulator shows it (never its session_key). */
export interface EmulatedUserState {
  /** Absent for WeChat's users. */
  platform?: PlatformName
  openid: string
  unionid?: string
  blocked: boolean
  /** code2Session calls answered for this user. */
  calls: number
}

/** The emulator, driven the way a test drives it. Every method throws on an answer other than 2xx. */
export interface EmulatorClient {
  /** A single-use login code for `openid` (the user is created on first use). */
  loginCode(openid: string, options?: LoginCodeOptions): Promise<string>
  /** The same, with Douyin's `anonymousCode` beside the code. */
  loginCodes(openid: string, options?: LoginCodeOptions): Promise<LoginCodes>
  /** A single-use phone-number button code (`bindgetphonenumber`) for a user seen before. */
  phoneCode(openid: string, phoneNumber: string, options?: { age?: number }): Promise<string>
  /** `data` sealed as the mini program receives it, for `POST /auth/decrypt` or a login. */
  userData(
    openid: string,
    data: object,
    options?: { appid?: string } & UserOptions,
  ): Promise<SealedUserData>
  /** Blocks the user, sets its unionid or a fault; answers the user's state. */
  setUser(openid: string, change: EmulatedUserChange): Promise<EmulatedUserState>
  /** The user's state, or null for a user not seen yet. */
  getUser(openid: string, options?: UserOptions): Promise<EmulatedUserState | null>
  /** Gives the user a new session_key, as a second `wx.login()` may. */
  rotateSessionKey(openid: string, options?: UserOptions): Promise<void>
  /** Any control route, e.g. `request('POST', '/access-token', { expire: true })`. */
  request(method: string, path: string, body?: unknown): Promise<Response>
}

/** The origin of requests that go straight to the Durable Object or a fetcher. */
export const EMULATOR_ORIGIN = 'http://emulator.invalid'

function send(target: EmulatorTarget, path: string, mount: string, init: RequestInit) {
  if (typeof target === 'string' || target instanceof URL) {
    const base = String(target).replace(/\/+$/, '')
    return fetch(`${base}${mount}${path}`, init)
  }
  if ('WECHAT_EMULATOR' in target) {
    return emulatorStub(target).fetch(`${EMULATOR_ORIGIN}${DEFAULT_EMULATOR_PATH}${path}`, init)
  }
  if ('fetch' in target) return target.fetch(new Request(`${EMULATOR_ORIGIN}${mount}${path}`, init))
  throw new TypeError('emulator: pass the env, a base URL or a fetcher')
}

/**
 * A client of the WeChat emulator for tests: login codes, phone codes, sealed
 * user data and per-user faults, without hand-written `fetch` calls.
 *
 * @param target the env with `WECHAT_EMULATOR`, a base URL, or a fetcher (see {@link EmulatorTarget})
 * @param options `path`: where the Worker mounted the control surface (default `/__emulator`)
 * @example
 * ```ts
 * import { env, SELF } from 'cloudflare:test'
 * import { emulatorClient } from 'wxa-auth/testing'
 *
 * const code = await emulatorClient(env).loginCode('alice')
 * const res = await SELF.fetch('http://app/auth/login', {
 *   method: 'POST',
 *   headers: { 'Content-Type': 'application/json' },
 *   body: JSON.stringify({ code }),
 * })
 * ```
 */
export function emulatorClient(
  target: EmulatorTarget,
  { path = DEFAULT_EMULATOR_PATH }: EmulatorClientOptions = {},
): EmulatorClient {
  const mount = path.replace(/\/+$/, '')

  async function request(method: string, route: string, body?: unknown): Promise<Response> {
    const init: RequestInit = { method }
    if (body !== undefined) {
      init.headers = { 'Content-Type': 'application/json' }
      init.body = JSON.stringify(body)
    }
    return send(target, route, mount, init)
  }

  async function json<T>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await request(method, route, body)
    const text = await res.text()
    if (!res.ok) throw new Error(`emulator: ${method} ${route} answered ${res.status}: ${text}`)
    return JSON.parse(text) as T
  }

  const user = (openid: string, { platform }: UserOptions = {}) =>
    `/users/${encodeURIComponent(openid)}${platform ? `?platform=${platform}` : ''}`
  const loginCodes = (openid: string, options: LoginCodeOptions = {}) =>
    json<LoginCodes>('POST', '/code', { openid, ...options })

  return {
    request,
    loginCodes,
    async loginCode(openid, options = {}) {
      return (await loginCodes(openid, options)).code
    },
    async phoneCode(openid, phoneNumber, options = {}) {
      const body = { openid, phoneNumber, ...options }
      return (await json<{ code: string }>('POST', '/phone-code', body)).code
    },
    userData(openid, data, options = {}) {
      return json('POST', '/user-data', { openid, data, ...options })
    },
    setUser(openid, change) {
      return json('POST', user(openid), change)
    },
    async getUser(openid, options) {
      const res = await request('GET', user(openid, options))
      if (res.status === 404) return null
      if (!res.ok) throw new Error(`emulator: GET ${user(openid, options)} answered ${res.status}`)
      return (await res.json()) as EmulatedUserState
    },
    async rotateSessionKey(openid, options = {}) {
      const path = `/users/${encodeURIComponent(openid)}/rotate-session-key`
      await json('POST', options.platform ? `${path}?platform=${options.platform}` : path)
    },
  }
}

/**
 * A single-use login code for a test user, as `wx.login()` gives it: the
 * short form of `emulatorClient(target).loginCode(openid, options)`.
 *
 * @example
 * ```ts
 * const code = await loginCode('http://127.0.0.1:8787', 'alice')
 * ```
 */
export function loginCode(
  target: EmulatorTarget,
  openid: string,
  options: LoginCodeOptions & EmulatorClientOptions = {},
): Promise<string> {
  const { path, ...codeOptions } = options
  return emulatorClient(target, path === undefined ? {} : { path }).loginCode(openid, codeOptions)
}
