import {
  type AdapterResponse,
  type CallbackApi,
  type Method,
  type RequestData,
  type WxaAdapter,
  wxAdapter,
} from './adapters'
import { WxaClientError } from './errors'
import { limiter } from './queue'
import { checkBaseUrl, joinUrl } from './url'

export const DEFAULT_STORAGE_KEY = 'wxa-auth:session'
export const DEFAULT_REFRESH_AFTER = 0.5 // of the token's lifetime
export const DEFAULT_LOGIN_COOLDOWN = 10 * 1000 // 10 seconds, ms
export const DEFAULT_MAX_CONCURRENT = 10 // network calls in flight: WeChat's limit
export const DEFAULT_RETRIES = 2 // per call, on 429 / 503 with Retry-After
export const DEFAULT_MAX_RETRY_WAIT = 10 * 1000 // ms; a longer Retry-After is not waited out
/** Ms before retrying a logout whose failure gave no Retry-After; doubled each time. */
const BACKOFF = 1000
export const DEFAULT_PATHS: WxaPaths = {
  login: '/auth/login',
  refresh: '/auth/refresh',
  logout: '/auth/logout',
  decrypt: '/auth/decrypt',
  phone: '/auth/phone',
}

/** The server's routes the SDK calls. */
export interface WxaPaths {
  login: string
  refresh: string
  logout: string
  decrypt: string
  phone: string
}

/** A login's or refresh's answer, as kept in storage. */
export interface WxaSession<User = Record<string, unknown>> {
  token: string
  /** The server's ISO 8601 end of the token; shown, never compared with the device's clock. */
  expiresAt: string
  /** Seconds the token had left when the server answered. */
  expiresIn: number
  /** The device's clock (ms) when the login or refresh was sent: the start of `expiresIn`. */
  receivedAt: number
  user: User
}

export interface WxaClientOptions {
  /**
   * Where wxa-auth runs, e.g. `https://api.example.com`; request URLs are paths
   * below it. `http://` only for localhost, 127.0.0.1 and [::1].
   */
  baseUrl: string
  /** The runtime: {@link wxAdapter} (default), `taroAdapter(Taro)` or `uniAdapter(uni)`. */
  adapter?: WxaAdapter
  /** Shorthand for `adapter: wxAdapter(wx)`, e.g. a stand-in in tests. */
  wx?: CallbackApi
  /** The AppID sent with each login, when the server serves several mini programs. */
  appId?: string
  /** The storage key of the session; default {@link DEFAULT_STORAGE_KEY}. */
  storageKey?: string
  /** Fraction of a token's lifetime after which the next request refreshes it first; default 0.5. */
  refreshAfter?: number
  /** At most one login per this many ms; default {@link DEFAULT_LOGIN_COOLDOWN} (10 s). */
  loginCooldown?: number
  /** Network calls in flight at most; default {@link DEFAULT_MAX_CONCURRENT} (10). */
  maxConcurrent?: number
  /**
   * Retries of a call answered 429 or 503 with `Retry-After`, and of a logout
   * answered 429 or 503 or not at all; default {@link DEFAULT_RETRIES}.
   */
  retries?: number
  /**
   * A longer `Retry-After` (ms) is not waited out: the call rejects; default 10 s.
   * A login answered with `Retry-After` holds the next one back this long at most;
   * a logout waits this long at most, then tries again.
   */
  maxRetryWait?: number
  /** The server's routes, if not mounted where wxa-auth puts them; default {@link DEFAULT_PATHS}. */
  paths?: Partial<WxaPaths>
  /** The device's clock in ms; for tests. Default `Date.now`. */
  now?: () => number
  /** Waits `ms`; for tests. Default `setTimeout`. */
  sleep?: (ms: number) => Promise<void>
}

export interface WxaRequestOptions {
  /** A path below `baseUrl`, e.g. `/me`; anything else is `BAD_URL`. */
  url: string
  /** Default `GET`. */
  method?: Method
  /** The body (JSON for objects) or, for GET, the query. */
  data?: RequestData
  /** Extra headers; `Authorization` is always the SDK's. */
  header?: Record<string, string>
}

export interface WxaUploadOptions {
  /** A path below `baseUrl`. */
  url: string
  /** A local file path, e.g. from `wx.chooseMedia`. */
  filePath: string
  /** The form field of the file. */
  name: string
  /** Other form fields. */
  formData?: Record<string, string>
  header?: Record<string, string>
}

export interface WxaDownloadOptions {
  /** A path below `baseUrl`. */
  url: string
  header?: Record<string, string>
}

export interface WxaResponse<T> {
  statusCode: number
  data: T
  header: Record<string, string>
}

/** The answer of `POST /auth/phone`. */
export interface WxaPhone {
  phoneNumber: string
  purePhoneNumber: string
  countryCode: string
}

export interface WxaClient<User = Record<string, unknown>> {
  /**
   * Sends a request with `Authorization: JWT <token>`. Logs in first when
   * there is no token; refreshes it first when it is past `refreshAfter` of
   * its lifetime. A 401 is answered with one refresh (or, if the session is
   * gone, one login) and one retry. Resolves with 2xx answers and rejects
   * with a {@link WxaClientError} otherwise.
   */
  request<T = unknown>(options: WxaRequestOptions): Promise<WxaResponse<T>>
  /** `uploadFile` with the same auth, refresh and 401 handling; `data` is parsed JSON when it is JSON. */
  uploadFile<T = unknown>(options: WxaUploadOptions): Promise<WxaResponse<T>>
  /** `downloadFile` with the same auth, refresh and 401 handling. */
  downloadFile(options: WxaDownloadOptions): Promise<{ statusCode: number; tempFilePath: string }>
  /**
   * Decrypts what `getData` returns (`{ encryptedData, iv }`, e.g. from
   * `wx.getWeRunData`) at `POST /auth/decrypt`. Logs in before calling
   * `getData`. On `WECHAT_SESSION_KEY_STALE` it logs in again, calls
   * `getData` again and retries once.
   */
  decrypt<T = Record<string, unknown>>(
    getData: () => Promise<{ encryptedData: string; iv: string }>,
  ): Promise<T>
  /** The phone number behind a phone-number button's code (`POST /auth/phone`). */
  phone(code: string): Promise<WxaPhone>
  /** Logs in now (`wx.login` -> `POST /auth/login`); joins a login or refresh already running. */
  login(): Promise<WxaSession<User>>
  /**
   * Ends the session on the server (`POST /auth/logout`) and forgets the token.
   * A 429, a 503 or no answer is retried (`retries`, waiting `Retry-After` up to
   * `maxRetryWait`, else 1 s, 2 s, …). The token is forgotten even when the
   * server cannot be reached; never rejects.
   */
  logout(): Promise<void>
  /** The stored session, or null when there is none or its lifetime is over by the device's clock. */
  session(): WxaSession<User> | null
}

type Answer = AdapterResponse & { tempFilePath?: string }

/**
 * A wxa-auth client for a mini program: requests, uploads and downloads with
 * silent login and refresh, for WeChat, Taro or uni-app.
 *
 * @param options.baseUrl where wxa-auth runs (required)
 * @param options.adapter the runtime; default the global `wx`
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
    appId,
    storageKey = DEFAULT_STORAGE_KEY,
    refreshAfter = DEFAULT_REFRESH_AFTER,
    loginCooldown = DEFAULT_LOGIN_COOLDOWN,
    maxConcurrent = DEFAULT_MAX_CONCURRENT,
    retries = DEFAULT_RETRIES,
    maxRetryWait = DEFAULT_MAX_RETRY_WAIT,
    now = Date.now,
    sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  } = options
  if (!options.baseUrl) throw new TypeError('createClient: options.baseUrl is required')
  const base = checkBaseUrl(options.baseUrl)
  const adapter = options.adapter ?? wxAdapter(options.wx)
  const paths = { ...DEFAULT_PATHS, ...options.paths }
  const queued = limiter(maxConcurrent)

  /** The login or refresh running; every request waits for it. */
  let running: Promise<WxaSession<User>> | null = null
  let lastLogin = Number.NEGATIVE_INFINITY
  let loginFailure: WxaClientError | null = null
  let loginBlockedUntil = Number.NEGATIVE_INFINITY
  let lastRefresh = Number.NEGATIVE_INFINITY

  const since = (time: number) => now() - time
  const recent = (time: number) => since(time) >= 0 && since(time) < loginCooldown

  function read(): WxaSession<User> | null {
    const stored = adapter.getStorage(storageKey) as Partial<WxaSession<User>> | null
    if (!stored || typeof stored.token !== 'string' || !stored.token) return null
    // A session stored by an older SDK, without a lifetime, is refreshed first.
    const known = typeof stored.expiresIn === 'number' && typeof stored.receivedAt === 'number'
    return known ? (stored as WxaSession<User>) : { ...(stored as WxaSession<User>), expiresIn: 0 }
  }

  const lifetime = (s: WxaSession<User>) => s.expiresIn * 1000
  const due = (s: WxaSession<User>) =>
    !(since(s.receivedAt) >= 0 && since(s.receivedAt) < lifetime(s) * refreshAfter)

  function session(): WxaSession<User> | null {
    const s = read()
    return s && since(s.receivedAt) >= 0 && since(s.receivedAt) < lifetime(s) ? s : null
  }

  function keep(res: Answer, sentAt: number, path: string): WxaSession<User> {
    const { token, expiresAt, expiresIn, user } = (res.data ?? {}) as Partial<WxaSession<User>>
    if (typeof token !== 'string' || !token || typeof expiresIn !== 'number') {
      throw new WxaClientError('BAD_RESPONSE', `${path} answered without a token and expiresIn`, {
        status: res.statusCode,
      })
    }
    const fresh = { token, expiresAt: String(expiresAt), expiresIn, receivedAt: sentAt, user }
    adapter.setStorage(storageKey, fresh)
    return fresh as WxaSession<User>
  }

  /** One network call through the queue; 429 and 503 with Retry-After are retried. */
  async function call(
    path: string,
    send: (url: string, header: Record<string, string>) => Promise<Answer>,
    token?: string,
    extra?: Record<string, string>,
    tries = retries,
  ): Promise<Answer> {
    const url = joinUrl(base, path)
    const header: Record<string, string> = {}
    const given = extra ?? {}
    for (const name in given) {
      if (name.toLowerCase() !== 'authorization') header[name] = given[name] as string
    }
    if (token) header.Authorization = `JWT ${token}`
    for (let attempt = 0; ; attempt++) {
      const res = await queued(() =>
        // then(): a runtime that throws instead of failing is a network error too.
        Promise.resolve()
          .then(() => send(url, header))
          .catch((cause: unknown) => {
            const reason = (cause as { errMsg?: string; message?: string } | null) ?? {}
            throw new WxaClientError(
              'NETWORK_ERROR',
              `${path}: ${reason.errMsg ?? reason.message ?? String(cause)}`,
              { cause },
            )
          }),
      )
      const wait = retryAfter(res)
      if (wait === undefined || attempt >= tries || wait > maxRetryWait) return res
      await sleep(wait)
    }
  }

  const post = (path: string, data?: RequestData, token?: string, tries?: number) =>
    call(
      path,
      (url, header) => adapter.request({ url, method: 'POST', data, header }),
      token,
      {},
      tries,
    )

  /** Throws when a login is not allowed yet: the last one's error, `rejected`, or LOGIN_COOLDOWN. */
  function mayLogIn(rejected?: WxaClientError): void {
    const wait = Math.max(lastLogin + loginCooldown, loginBlockedUntil) - now()
    if (wait <= 0 || since(lastLogin) < 0) return
    const retryAfter = Math.ceil(wait / 1000)
    const last = loginFailure
    if (last) {
      throw new WxaClientError(last.code, `${last.message} (no new login for ${retryAfter} s)`, {
        status: last.status,
        serverCode: last.serverCode,
        retryAfter,
        cause: last,
      })
    }
    throw (
      rejected ??
      new WxaClientError('LOGIN_COOLDOWN', `the last login was less than ${loginCooldown} ms ago`, {
        retryAfter,
      })
    )
  }

  async function logIn(): Promise<WxaSession<User>> {
    lastLogin = now()
    loginFailure = null
    try {
      const code = await Promise.resolve()
        .then(() => adapter.login())
        .catch((cause: unknown) => {
          const errMsg = (cause as { errMsg?: string } | null)?.errMsg
          throw new WxaClientError('WX_LOGIN_FAILED', `wx.login failed: ${errMsg ?? cause}`, {
            cause,
          })
        })
      const sentAt = now()
      // Not retried: WeChat may have spent the code already.
      const res = await post(paths.login, { code, ...(appId ? { appId } : {}) }, undefined, 0)
      if (res.statusCode !== 200) {
        // Held back for Retry-After, but not past maxRetryWait: a proxy's
        // `Retry-After: 86400` must not lock the user out for a day.
        const wait = retryAfter(res)
        if (wait !== undefined) loginBlockedUntil = now() + Math.min(wait, maxRetryWait)
        throw errorFrom(res, paths.login)
      }
      return keep(res, sentAt, paths.login)
    } catch (error) {
      loginFailure = error as WxaClientError
      throw error
    }
  }

  /**
   * A new token for `current`: POST /auth/refresh, or a login when the server
   * says the session is gone. When `keepOnFailure`, a refresh that fails
   * otherwise (offline, 5xx) leaves `current` in use.
   */
  async function refresh(
    current: WxaSession<User>,
    keepOnFailure: boolean,
    rejected?: WxaClientError,
  ): Promise<WxaSession<User>> {
    lastRefresh = now()
    const sentAt = now()
    let res: Answer
    try {
      res = await post(paths.refresh, undefined, current.token)
    } catch (error) {
      if (keepOnFailure) return current
      throw error
    }
    if (res.statusCode === 200) return keep(res, sentAt, paths.refresh)
    if (res.statusCode === 401) {
      mayLogIn(rejected)
      return logIn()
    }
    if (keepOnFailure) return current
    throw errorFrom(res, paths.refresh)
  }

  function single(run: () => Promise<WxaSession<User>>): Promise<WxaSession<User>> {
    running ??= run().finally(() => {
      running = null
    })
    return running
  }

  function login(): Promise<WxaSession<User>> {
    if (running) return running
    try {
      mayLogIn()
    } catch (error) {
      return Promise.reject(error)
    }
    return single(logIn)
  }

  /** The session to send a request with: logged in, and refreshed when due. */
  function ready(): Promise<WxaSession<User>> {
    if (running) return running
    const current = read()
    if (!current) return login()
    // A refresh that failed less than loginCooldown ago is not tried again yet.
    if (!due(current) || recent(lastRefresh)) return Promise.resolve(current)
    return single(() => refresh(current, true))
  }

  /** After a 401 to `sent`: a newer token, a refreshed one, or a new login. */
  function recover(sent: WxaSession<User>, rejected: WxaClientError): Promise<WxaSession<User>> {
    if (running) return running
    const current = read()
    if (current && current.token !== sent.token) return Promise.resolve(current)
    // A token got or checked less than loginCooldown ago and still refused: the
    // route refuses it, and neither a refresh nor a login would change that.
    if (recent(sent.receivedAt) || recent(lastRefresh)) return Promise.reject(rejected)
    return single(() => refresh(sent, false, rejected))
  }

  async function authed(
    path: string,
    send: (url: string, header: Record<string, string>) => Promise<Answer>,
    extra?: Record<string, string>,
  ): Promise<Answer> {
    joinUrl(base, path) // BAD_URL before any login or token
    let current = await ready()
    let res = await call(path, send, current.token, extra)
    if (res.statusCode === 401) {
      current = await recover(current, rejectedBy(res, path))
      res = await call(path, send, current.token, extra)
      if (res.statusCode === 401) throw rejectedBy(res, path)
    }
    if (res.statusCode < 200 || res.statusCode > 299) throw errorFrom(res, path)
    return res
  }

  function request<T>({ url, method = 'GET', data, header }: WxaRequestOptions) {
    return authed(
      url,
      (to, h) => adapter.request({ url: to, method, data, header: h }),
      header,
    ) as Promise<WxaResponse<T>>
  }

  async function uploadFile<T>({ url, header, ...file }: WxaUploadOptions) {
    const res = await authed(
      url,
      (to, h) => adapter.uploadFile({ ...file, url: to, header: h }).then(parsed),
      header,
    )
    return res as WxaResponse<T>
  }

  async function downloadFile({ url, header }: WxaDownloadOptions) {
    const { statusCode, tempFilePath } = await authed(
      url,
      (to, h) =>
        adapter
          .downloadFile({ url: to, header: h })
          .then((res) => ({ ...res, data: undefined, header: {} })),
      header,
    )
    return { statusCode, tempFilePath: tempFilePath as string }
  }

  const postData = <T>(path: string, data: RequestData) =>
    request<T>({ url: path, method: 'POST', data }).then((res) => res.data)

  async function decrypt<T>(getData: () => Promise<{ encryptedData: string; iv: string }>) {
    // Logged in before the data is made: a later wx.login would make its key stale.
    await ready()
    const attempt = async () => {
      const { encryptedData, iv } = await getData()
      return (await postData<{ data: T }>(paths.decrypt, { encryptedData, iv })).data
    }
    try {
      return await attempt()
    } catch (error) {
      if ((error as WxaClientError).code !== 'WECHAT_SESSION_KEY_STALE') throw error
      await running?.catch(() => undefined)
      const stale = read()
      await login()
      // The login made a new session; the one it replaces would linger as a device.
      if (stale) await post(paths.logout, undefined, stale.token, 0).catch(() => undefined)
      return attempt()
    }
  }

  async function phone(code: string) {
    return (await postData<{ phone: WxaPhone }>(paths.phone, { code })).phone
  }

  async function logout(): Promise<void> {
    // A login or refresh still running would store its session after this logout.
    await running?.catch(() => undefined)
    const token = read()?.token
    adapter.removeStorage(storageKey)
    if (!token) return
    // Logout is idempotent on the server, so it is retried where a login is
    // not: on 429/503 (STORAGE_UNAVAILABLE, or STORAGE_OUTCOME_UNKNOWN: the
    // session object was reached, the outcome is unknown) and with no answer.
    // The status, not the code: codes.ts does not list STORAGE_OUTCOME_UNKNOWN
    // yet. Given up after `retries`, the session still ends at its expiresAt.
    for (let attempt = 0; ; attempt++) {
      let wait: number | undefined
      try {
        const res = await post(paths.logout, undefined, token, 0)
        if (res.statusCode !== 429 && res.statusCode !== 503) return
        wait = retryAfter(res)
      } catch (error) {
        if ((error as WxaClientError).code !== 'NETWORK_ERROR') return
      }
      if (attempt >= retries) return
      await sleep(Math.min(wait ?? BACKOFF * 2 ** attempt, maxRetryWait))
    }
  }

  return { request, uploadFile, downloadFile, decrypt, phone, login, logout, session }
}

/** An upload's body is text: JSON is parsed, anything else left as it is. */
function parsed(res: AdapterResponse): AdapterResponse {
  if (typeof res.data !== 'string') return res
  try {
    return { ...res, data: JSON.parse(res.data) }
  } catch {
    return res
  }
}

/** Ms to wait before retrying a 429 or 503 that says so; `Retry-After` in seconds only. */
function retryAfter(res: Answer): number | undefined {
  if (res.statusCode !== 429 && res.statusCode !== 503) return undefined
  for (const name in res.header) {
    if (name.toLowerCase() !== 'retry-after') continue
    const seconds = Number(res.header[name])
    return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined
  }
  return undefined
}

function serverCode(res: Answer): string | undefined {
  const error = (res.data as { error?: { code?: unknown } } | null)?.error
  return typeof error?.code === 'string' ? error.code : undefined
}

function errorFrom(res: Answer, path: string): WxaClientError {
  const code = serverCode(res)
  const message = (res.data as { error?: { message?: unknown } } | null)?.error?.message
  const wait = retryAfter(res)
  return new WxaClientError(
    (code ?? 'BAD_RESPONSE') as WxaClientError['code'],
    typeof message === 'string' ? message : `${path} answered HTTP ${res.statusCode}`,
    {
      status: res.statusCode,
      ...(code ? { serverCode: code } : {}),
      ...(wait === undefined ? {} : { retryAfter: wait / 1000 }),
    },
  )
}

/** The error of a 401 that a login or refresh did not (or may not) fix. */
function rejectedBy(res: Answer, path: string): WxaClientError {
  const code = serverCode(res)
  return new WxaClientError(
    'LOGIN_REJECTED',
    `${path} answered 401 ${code ?? ''} to a fresh token: not logging in again`,
    { status: 401, ...(code ? { serverCode: code } : {}) },
  )
}
