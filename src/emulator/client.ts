import { emulatorStub } from './stub'
import type { EmulatedPlatform } from './wechat/state'

/** Where {@link mountEmulator} puts the emulator's control surface by default. */
export const DEFAULT_EMULATOR_PATH = '/__emulator'

/** The binding the emulator needs in the host app's env (wrangler.toml `[env.dev]`). */
export interface EmulatorBindings {
  WECHAT_EMULATOR?: DurableObjectNamespace
}

/** Anything that answers a Request: `exports.default`, `SELF`, a service binding, `{ fetch: (r) => app.fetch(r, env) }`. */
export interface EmulatorFetcher {
  fetch(request: Request): Response | Promise<Response>
}

/**
 * How tests reach the emulator, named (the unambiguous form):
 * - `{ env }`: the Worker's env (it has the `WECHAT_EMULATOR` binding): straight to the Durable Object;
 * - `{ url }`: the base URL of a running Worker that mounted it (`http://127.0.0.1:8787`);
 * - `{ fetcher }`: something that answers a Request for such a Worker (`exports.default`
 *   from `cloudflare:workers`, `SELF` from `cloudflare:test`, a service binding).
 *
 * The plain forms still work where they can be told apart: a URL (a string or
 * a `URL`), an env (a plain object whose `WECHAT_EMULATOR` is a namespace) and
 * a fetcher (an RPC stub, a Proxy, or an object with a `fetch` method).
 */
export type EmulatorTarget =
  | { env: EmulatorBindings }
  | { url: string | URL }
  | { fetcher: EmulatorFetcher }
  | string
  | URL
  | EmulatorBindings
  | EmulatorFetcher

export interface EmulatorClientOptions {
  /** Where the Worker mounted the control surface (for a URL or a fetcher). Default `/__emulator`. */
  path?: string
}

/** A fresh login code: what `wx.login()` (`tt.login()`, `qq.login()`) gives the mini program. */
export interface LoginCodeOptions {
  /** The app the code is for (one of `WECHAT_APP_ID`, `DOUYIN_APP_ID`, `QQ_APP_ID`); it picks the platform. */
  appId?: string
  /** Without `appId`: the first app of this platform. Default: WeChat's first app. */
  platform?: EmulatedPlatform
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
  platform?: EmulatedPlatform
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
  platform?: EmulatedPlatform
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

type Resolved =
  | { kind: 'env'; env: EmulatorBindings }
  | { kind: 'url'; url: string }
  | { kind: 'fetcher'; fetcher: EmulatorFetcher }

const NAMED = ['env', 'url', 'fetcher'] as const

/**
 * Which target this is. `in` cannot tell: an RPC stub (`exports.default`) says
 * it has every property, and vitest's `SELF` Proxy says it has none while
 * answering each with a function. So: named forms first (the one own property
 * of a plain object), then what only the value's type shows.
 */
function resolve(target: EmulatorTarget): Resolved {
  if (typeof target === 'string' || target instanceof URL)
    return { kind: 'url', url: String(target) }
  if (typeof target === 'function') return { kind: 'fetcher', fetcher: target as EmulatorFetcher }
  if (target && typeof target === 'object') {
    const own = Object.keys(target)
    const named = NAMED.filter((name) => own.includes(name))
    if (named.length === 1 && own.length === 1) {
      const value = (target as Record<string, unknown>)[named[0] as string]
      if (named[0] === 'url' && (typeof value === 'string' || value instanceof URL)) {
        return { kind: 'url', url: String(value) }
      }
      if (named[0] === 'env' && isEnv(value)) return { kind: 'env', env: value }
      if (named[0] === 'fetcher' && hasFetch(value)) return { kind: 'fetcher', fetcher: value }
      throw new TypeError(`emulator: { ${named[0]} } is not ${NAMED_SHAPE[named[0] as string]}`)
    }
    // `fetch` first: reading any other property of `SELF` starts an RPC call that fails.
    if (hasFetch(target)) return { kind: 'fetcher', fetcher: target }
    if (isEnv(target)) return { kind: 'env', env: target }
  }
  throw new TypeError('emulator: pass { env }, { url } or { fetcher } (see EmulatorTarget)')
}

const NAMED_SHAPE: Record<string, string> = {
  env: 'an env with the WECHAT_EMULATOR binding',
  url: 'a base URL (a string or a URL)',
  fetcher: 'something with a fetch(request) method',
}

/** The Worker's env: its `WECHAT_EMULATOR` is a namespace object (on a Proxy or a stub, a function). */
function isEnv(value: unknown): value is EmulatorBindings {
  const binding = (value as { WECHAT_EMULATOR?: unknown } | null)?.WECHAT_EMULATOR
  return (
    typeof binding === 'object' &&
    binding !== null &&
    typeof (binding as { idFromName?: unknown }).idFromName === 'function'
  )
}

const hasFetch = (value: unknown): value is EmulatorFetcher =>
  (typeof value === 'object' || typeof value === 'function') &&
  value !== null &&
  typeof (value as { fetch?: unknown }).fetch === 'function'

function send(target: Resolved, path: string, mount: string, init: RequestInit) {
  switch (target.kind) {
    case 'url':
      return fetch(`${target.url.replace(/\/+$/, '')}${mount}${path}`, init)
    case 'env':
      return emulatorStub(target.env).fetch(
        `${EMULATOR_ORIGIN}${DEFAULT_EMULATOR_PATH}${path}`,
        init,
      )
    case 'fetcher':
      return target.fetcher.fetch(new Request(`${EMULATOR_ORIGIN}${mount}${path}`, init))
  }
}

/**
 * A client of the WeChat emulator for tests: login codes, phone codes, sealed
 * user data and per-user faults, without hand-written `fetch` calls.
 *
 * @param target `{ env }` (with `WECHAT_EMULATOR`), `{ url }` or `{ fetcher }` (see {@link EmulatorTarget})
 * @param options `path`: where the Worker mounted the control surface (default `/__emulator`)
 * @throws TypeError when `target` is none of them (at once, not at the first call)
 * @example
 * ```ts
 * import { env, exports } from 'cloudflare:workers'
 * import { emulatorClient } from 'wxa-auth/testing'
 *
 * const code = await emulatorClient({ env }).loginCode('alice')
 * const res = await exports.default.fetch('http://app/auth/login', {
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
  const resolved = resolve(target)

  async function request(method: string, route: string, body?: unknown): Promise<Response> {
    const init: RequestInit = { method }
    if (body !== undefined) {
      init.headers = { 'Content-Type': 'application/json' }
      init.body = JSON.stringify(body)
    }
    return send(resolved, route, mount, init)
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
