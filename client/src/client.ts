import { WxaClientError } from './errors'

export const DEFAULT_STORAGE_KEY = 'wxa-auth:session'
export const DEFAULT_EXPIRY_MARGIN = 60 * 1000 // 1 minute, ms
export const DEFAULT_LOGIN_PATH = '/auth/login'
export const DEFAULT_LOGOUT_PATH = '/auth/logout'

type Method = NonNullable<WechatMiniprogram.RequestOption['method']>
type RequestData = WechatMiniprogram.RequestOption['data']

/** What `wx.request` hands to `success`: any HTTP status, including 4xx and 5xx. */
export type WxRequestResult = Pick<
  WechatMiniprogram.RequestSuccessCallbackResult,
  'statusCode' | 'data' | 'header'
>

/**
 * The part of `wx` the SDK uses, with the types of `miniprogram-api-typings`.
 * The mini program's global `wx` is one; tests pass a stand-in.
 */
export interface WxApi {
  request(option: {
    url: string
    method?: Method
    data?: RequestData
    header?: Record<string, string>
    dataType?: string
    success?: (result: WxRequestResult) => void
    fail?: (error: Pick<WechatMiniprogram.RequestFailCallbackErr, 'errMsg'>) => void
  }): unknown
  login(option: {
    success?: (result: Pick<WechatMiniprogram.LoginSuccessCallbackResult, 'code'>) => void
    fail?: (error: WechatMiniprogram.GeneralCallbackResult) => void
  }): unknown
  getStorageSync(key: string): unknown
  setStorageSync(key: string, data: unknown): void
  removeStorageSync(key: string): void
}

/** The answer of `POST /auth/login`, as kept in storage. */
export interface WxaSession<User = Record<string, unknown>> {
  token: string
  /** ISO 8601; the token and the server-side session end then. */
  expiresAt: string
  user: User
}

export interface WxaClientOptions {
  /** Where wxa-auth runs, e.g. `https://api.example.com`; request URLs are paths below it. */
  baseUrl: string
  /** The `wx` object; default: the mini program's global `wx`. */
  wx?: WxApi
  /** The `wx.setStorageSync` key of the session; default {@link DEFAULT_STORAGE_KEY}. */
  storageKey?: string
  /** A stored token this close to `expiresAt` counts as absent; ms, default {@link DEFAULT_EXPIRY_MARGIN}. */
  expiryMargin?: number
  /** Default {@link DEFAULT_LOGIN_PATH}. */
  loginPath?: string
  /** Default {@link DEFAULT_LOGOUT_PATH}. */
  logoutPath?: string
  /** The clock in ms; for tests. Default `Date.now`. */
  now?: () => number
}

export interface WxaRequestOptions {
  /** A path below `baseUrl`, e.g. `/me`. */
  url: string
  /** Default `GET`. */
  method?: Method
  /** The body (JSON for objects) or, for GET, the query. */
  data?: RequestData
  /** Extra headers; `Authorization` is always the SDK's. */
  header?: Record<string, string>
}

export interface WxaResponse<T> {
  statusCode: number
  data: T
  header: Record<string, string>
}

export interface WxaClient<User = Record<string, unknown>> {
  /**
   * Sends a request with `Authorization: JWT <token>`, logging in first when
   * there is no usable token. On a 401 it logs in again once and retries;
   * a second 401 is `LOGIN_REJECTED`. Resolves with 2xx answers and rejects
   * with a {@link WxaClientError} otherwise.
   */
  request<T = unknown>(options: WxaRequestOptions): Promise<WxaResponse<T>>
  /** Logs in now (`wx.login` -> `POST /auth/login`); joins a login already running. */
  login(): Promise<WxaSession<User>>
  /**
   * Ends the session on the server (`POST /auth/logout`) and forgets the token.
   * The token is forgotten even when the server cannot be reached; never rejects.
   */
  logout(): Promise<void>
  /** The stored session, or null when there is none or it has (nearly) expired. */
  session(): WxaSession<User> | null
}

/**
 * A wxa-auth client for a mini program: `wx.request` with silent login.
 *
 * @param options.baseUrl where wxa-auth runs (required)
 * @param options.wx the `wx` object; default the global one
 * @example
 * ```ts
 * const api = createClient({ baseUrl: 'https://api.example.com' })
 * const { data } = await api.request<{ user: { id: string } }>({ url: '/me' })
 * await api.logout()
 * ```
 */
export function createClient<User = Record<string, unknown>>(
  options: WxaClientOptions,
): WxaClient<User> {
  const {
    storageKey = DEFAULT_STORAGE_KEY,
    expiryMargin = DEFAULT_EXPIRY_MARGIN,
    loginPath = DEFAULT_LOGIN_PATH,
    logoutPath = DEFAULT_LOGOUT_PATH,
    now = Date.now,
  } = options
  const found = options.wx ?? (globalThis as { wx?: WxApi }).wx
  if (!found) throw new TypeError('createClient: no `wx` (not in a mini program? pass options.wx)')
  const wx: WxApi = found
  if (!options.baseUrl) throw new TypeError('createClient: options.baseUrl is required')
  const baseUrl = options.baseUrl.replace(/\/+$/, '')

  let pendingLogin: Promise<WxaSession<User>> | null = null

  function session(): WxaSession<User> | null {
    const stored = wx.getStorageSync(storageKey)
    if (!isSession<User>(stored)) return null
    return Date.parse(stored.expiresAt) - expiryMargin > now() ? stored : null
  }

  function send(request: WxaRequestOptions, token?: string): Promise<WxaResponse<unknown>> {
    const header: Record<string, string> = { ...request.header }
    for (const name of Object.keys(header)) {
      if (name.toLowerCase() === 'authorization') delete header[name]
    }
    if (token) header.Authorization = `JWT ${token}`
    return new Promise((resolve, reject) => {
      wx.request({
        url: baseUrl + request.url,
        method: request.method ?? 'GET',
        data: request.data,
        header,
        dataType: 'json',
        success: ({ statusCode, data, header }) => resolve({ statusCode, data, header }),
        fail: ({ errMsg }) =>
          reject(new WxaClientError('NETWORK_ERROR', `${request.url}: ${errMsg}`)),
      })
    })
  }

  async function startLogin(): Promise<WxaSession<User>> {
    const code = await new Promise<string>((resolve, reject) => {
      const failed = (cause: unknown) =>
        reject(new WxaClientError('WX_LOGIN_FAILED', 'wx.login failed', { cause }))
      wx.login({
        success: ({ code }) => (code ? resolve(code) : failed(new Error('wx.login gave no code'))),
        fail: failed,
      })
    })
    const res = await send({ url: loginPath, method: 'POST', data: { code } })
    if (res.statusCode !== 200) throw errorFrom(res, loginPath)
    const { token, expiresAt, user } = (res.data ?? {}) as Partial<WxaSession<User>>
    const fresh = { token, expiresAt, user }
    if (!isSession<User>(fresh)) {
      throw new WxaClientError('BAD_RESPONSE', `${loginPath} answered without a token`, {
        status: res.statusCode,
      })
    }
    wx.setStorageSync(storageKey, fresh)
    return fresh
  }

  function login(): Promise<WxaSession<User>> {
    pendingLogin ??= startLogin().finally(() => {
      pendingLogin = null
    })
    return pendingLogin
  }

  /** A new session in place of `stale`, unless another request already got one. */
  function renew(stale: string): Promise<WxaSession<User>> {
    const current = session()
    if (current && current.token !== stale) return Promise.resolve(current)
    wx.removeStorageSync(storageKey)
    return login()
  }

  async function request<T>(options: WxaRequestOptions): Promise<WxaResponse<T>> {
    let current = session() ?? (await login())
    let res = await send(options, current.token)
    if (res.statusCode === 401) {
      current = await renew(current.token)
      res = await send(options, current.token)
      if (res.statusCode === 401) {
        if (session()?.token === current.token) wx.removeStorageSync(storageKey)
        const serverCode = errorCode(res)
        throw new WxaClientError(
          'LOGIN_REJECTED',
          `${options.url} answered 401 ${serverCode ?? ''} again right after a fresh login`,
          { status: 401, ...(serverCode ? { serverCode } : {}) },
        )
      }
    }
    if (res.statusCode < 200 || res.statusCode > 299) throw errorFrom(res, options.url)
    return res as WxaResponse<T>
  }

  async function logout(): Promise<void> {
    // A login still running would store its session after this logout.
    await pendingLogin?.catch(() => undefined)
    const token = session()?.token
    wx.removeStorageSync(storageKey)
    if (!token) return
    try {
      await send({ url: logoutPath, method: 'POST' }, token)
    } catch {
      // Offline: the server-side session still ends at its expiresAt.
    }
  }

  return { request, login, logout, session }
}

function isSession<User>(value: unknown): value is WxaSession<User> {
  const { token, expiresAt } = (value ?? {}) as Partial<WxaSession<User>>
  return typeof token === 'string' && token !== '' && typeof expiresAt === 'string'
}

function errorCode(res: WxaResponse<unknown>): string | undefined {
  const error = (res.data as { error?: { code?: unknown } } | null)?.error
  return typeof error?.code === 'string' ? error.code : undefined
}

function errorFrom(res: WxaResponse<unknown>, url: string): WxaClientError {
  const code = errorCode(res)
  const message = (res.data as { error?: { message?: unknown } } | null)?.error?.message
  return new WxaClientError(
    (code ?? 'BAD_RESPONSE') as WxaClientError['code'],
    typeof message === 'string' ? message : `${url} answered HTTP ${res.statusCode}`,
    { status: res.statusCode, ...(code ? { serverCode: code } : {}) },
  )
}
