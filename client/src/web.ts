// `wxa-auth/web`: the SDK for WeChat's browser doors (an Official Account
// page, a website's QR login, a PC's scan-to-login). createClient does the
// requests, refresh, queue and 401 handling as in a mini program; this file
// adds the browser's adapter and the logins a browser has instead of wx.login.
import type { AdapterResponse, WxaAdapter } from './adapters'
import { errorFrom, retryAfter } from './answers'
import { createClient } from './client'
import { WxaClientError } from './errors'
import {
  DEFAULT_PATHS,
  DEFAULT_STORAGE_KEY,
  type WxaClient,
  type WxaClientOptions,
  type WxaSession,
} from './options'
import { sessionFrom } from './session'
import { checkBaseUrl } from './url'

export type { AdapterResponse, Method, RequestData, WxaAdapter } from './adapters'
export type { WxaServerCode } from './codes'
export * from './errors'
export type {
  WxaClient,
  WxaPaths,
  WxaProfile,
  WxaRequestOptions,
  WxaResponse,
  WxaSession,
} from './options'

/** The part of the browser's `fetch` the adapter uses. */
export type FetchLike = (
  url: string,
  init: {
    method: string
    headers: Record<string, string>
    body?: string | ArrayBuffer
    credentials?: 'omit'
  },
) => Promise<{
  status: number
  headers: { forEach(each: (value: string, name: string) => void): void }
  text(): Promise<string>
}>

/** The part of `localStorage` (or `sessionStorage`) the adapter uses. */
export interface StorageLike {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

export interface WebAdapterOptions {
  /** Default: the global `fetch`. */
  fetch?: FetchLike
  /** Where the session is kept; default the global `localStorage`. */
  storage?: StorageLike
}

/** A query part decoded (`+` is a space). */
const decode = (text: string) => decodeURIComponent(text.replace(/\+/g, ' '))

/** The error `login()` rejects with in a browser: it has no silent login. */
const loginRequired = () =>
  new WxaClientError(
    'LOGIN_REQUIRED',
    'no session, and a browser cannot log in silently: call authorize() (or scanLogin()) again',
  )

const globals = globalThis as unknown as {
  fetch?: FetchLike
  localStorage?: StorageLike
  location?: { href: string; search: string; hash: string; pathname: string }
  history?: { state: unknown; replaceState(state: unknown, unused: string, url: string): void }
}

/**
 * The adapter for a browser: `fetch` (JSON, no cookies) and `localStorage`
 * (JSON). It has no login code source: its `login()` rejects with
 * `LOGIN_REQUIRED`. No uploads or downloads: use `request`.
 */
export function webAdapter(options: WebAdapterOptions = {}): WxaAdapter {
  const send = options.fetch ?? globals.fetch?.bind(globalThis)
  const storage = options.storage ?? globals.localStorage
  if (!send || !storage) throw new TypeError('webAdapter: no fetch or localStorage (pass them)')
  const none = () => Promise.reject(new TypeError('webAdapter: use request() in a browser'))
  return {
    async request({ url, method, data, header }) {
      const headers = { ...header }
      let body: string | ArrayBuffer | undefined
      if (method === 'GET' || method === 'HEAD') {
        if (data && typeof data === 'object' && !(data instanceof ArrayBuffer)) {
          const query = Object.entries(data)
            .filter(([, value]) => value !== undefined)
            .map(
              ([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`,
            )
            .join('&')
          if (query) url += (url.includes('?') ? '&' : '?') + query
        }
      } else if (data !== undefined) {
        const json = typeof data === 'object' && !(data instanceof ArrayBuffer)
        body = json ? JSON.stringify(data) : data
        if (json) headers['Content-Type'] = 'application/json'
      }
      const res = await send(url, {
        method,
        headers,
        credentials: 'omit',
        ...(body === undefined ? {} : { body }),
      })
      const answered: Record<string, string> = {}
      res.headers.forEach((value, name) => {
        answered[name] = value
      })
      const text = await res.text()
      let parsed: unknown = text
      try {
        parsed = text ? JSON.parse(text) : undefined
      } catch {}
      return { statusCode: res.status, data: parsed, header: answered } satisfies AdapterResponse
    },
    uploadFile: none,
    downloadFile: none,
    login: () => Promise.reject(loginRequired()),
    getStorage(key) {
      const text = storage.getItem(key)
      try {
        return text === null ? null : JSON.parse(text)
      } catch {
        return null
      }
    },
    setStorage: (key, value) => storage.setItem(key, JSON.stringify(value)),
    removeStorage: (key) => storage.removeItem(key),
  }
}

export interface WebClientOptions
  extends Omit<WxaClientOptions, 'adapter' | 'wx'>,
    WebAdapterOptions {
  /** The runtime; default {@link webAdapter} over `fetch` and `localStorage`. */
  adapter?: WxaAdapter
}

/** The status a scan-to-login's poll hears before it ends. */
export type ScanStatus = 'pending' | 'scanned'

export interface AuthorizeOptions {
  /** The OA or website AppID; default the client's `appId`. */
  appId?: string
  /**
   * The page WeChat sends the user back to (on `WECHAT_REDIRECT_URIS`); it
   * gets `appId` in its query, for {@link WebClient.completeLogin}.
   */
  redirectUri: string
  /** `snsapi_base` or `snsapi_userinfo` (an OA; default `snsapi_base`), `snsapi_login` (a website, its default). */
  scope?: 'snsapi_base' | 'snsapi_userinfo' | 'snsapi_login'
}

export interface ScanLoginOptions {
  /** The mini program whose code to show; default the server's only one. */
  appId?: string
  /** Shows the code: `qrcode` is a `data:` URL for an `<img>`. */
  onCode(qrcode: string, ticket: { ticket: string; expiresAt: string }): void
  /** Each status the poll hears: `pending`, then `scanned` once the phone opened the page. */
  onStatus?(status: ScanStatus): void
  /** Ms between polls; default 3000 (the server limits polls as logins). */
  intervalMs?: number
  /** Stops polling; the promise rejects with the signal's reason. */
  signal?: {
    aborted: boolean
    reason?: unknown
    addEventListener(type: 'abort', listener: () => void): void
  }
}

export interface WebClient<User = Record<string, unknown>> extends WxaClient<User> {
  /** Sends the browser to WeChat's consent page (`GET /auth/wechat/authorize`); it comes back to `redirectUri`. */
  authorize(options: AuthorizeOptions): void
  /**
   * On the page WeChat sends the user back to: posts the address's `code`
   * and `state` (and `appId`) to `POST /auth/login`, keeps the session,
   * removes them from the address, and resolves with the session; null when
   * the address has no code.
   */
  completeLogin(options?: { appId?: string }): Promise<WxaSession<User> | null>
  /**
   * A PC's scan-to-login: `POST /auth/scan`, `onCode` with the mini program
   * code, then polls until the phone confirms: keeps the session and
   * resolves with it. Rejects with `SCAN_DENIED` when the user refuses,
   * `SCAN_TICKET_EXPIRED` when the code expires (show a new one).
   */
  scanLogin(options: ScanLoginOptions): Promise<WxaSession<User>>
}

/**
 * A wxa-auth client for a browser: an Official Account page, a website, or
 * a PC logging in by a scan. Requests refresh the token and answer a 401 as
 * in a mini program; a browser has no silent login, so with no session (or
 * a refresh refused) they reject with `LOGIN_REQUIRED`: call `authorize()`
 * or `scanLogin()` again.
 *
 * @example
 * ```ts
 * const api = createWebClient({ baseUrl: 'https://api.example.com', appId: 'wx-oa-appid' })
 * if (!(await api.completeLogin()) && !api.session()) {
 *   api.authorize({ redirectUri: location.origin + location.pathname })
 * }
 * ```
 */
export function createWebClient<User = Record<string, unknown>>(
  options: WebClientOptions,
): WebClient<User> {
  const { fetch, storage, adapter: given, appId, ...rest } = options
  const base = checkBaseUrl(options.baseUrl)
  const adapter =
    given ?? webAdapter({ ...(fetch ? { fetch } : {}), ...(storage ? { storage } : {}) })
  const storageKey = options.storageKey ?? DEFAULT_STORAGE_KEY
  const paths = { ...DEFAULT_PATHS, ...options.paths }
  const now = options.now ?? Date.now
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  // No appId for createClient: its logins are the browser's, which carry their own.
  const client = createClient<User>({ ...rest, adapter })

  /** A call with no token, outside the client's queue; no answer is NETWORK_ERROR. */
  const call = (method: 'GET' | 'POST', path: string, data?: Record<string, unknown>) =>
    adapter
      .request({ url: base + path, method, header: {}, ...(data ? { data } : {}) })
      .catch((cause: { message?: string } | null) => {
        throw new WxaClientError('NETWORK_ERROR', `${path}: ${cause?.message ?? cause}`, { cause })
      })

  /** Keeps a login answer as createClient keeps its own. */
  function keep(res: AdapterResponse, sentAt: number, path: string): WxaSession<User> {
    if (res.statusCode !== 200) throw errorFrom(res, path)
    const session = sessionFrom<User>(res, sentAt, path)
    adapter.setStorage(storageKey, session)
    return session
  }

  function authorize({ appId: app = appId, redirectUri, scope }: AuthorizeOptions): void {
    if (!app) throw new TypeError('authorize: give appId (or the client’s appId)')
    const location = globals.location
    if (!location) throw new TypeError('authorize: no location (not in a browser?)')
    // The page WeChat comes back to learns the app from its own address.
    const back = /[?&]appId=/.test(redirectUri)
      ? redirectUri
      : `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}appId=${encodeURIComponent(app)}`
    const query = [`appId=${encodeURIComponent(app)}`, `redirectUri=${encodeURIComponent(back)}`]
    if (scope) query.push(`scope=${encodeURIComponent(scope)}`)
    location.href = `${base}/auth/wechat/authorize?${query.join('&')}`
  }

  async function completeLogin(given: { appId?: string } = {}) {
    const location = globals.location
    if (!location) return null
    // Name-value pairs of the query; no URLSearchParams (the SDK's lib has no DOM).
    const pairs = location.search
      .replace(/^\?/, '')
      .split('&')
      .filter(Boolean)
      .map((pair) => pair.split('='))
    const param = (name: string) => {
      const found = pairs.find(([key]) => decode(key ?? '') === name)
      return found ? decode(found.slice(1).join('=')) : null
    }
    const code = param('code')
    const state = param('state')
    if (!code) return null
    const app = given.appId ?? param('appId') ?? appId
    // The code is single-use: out of the address (and history) before anything else.
    const rest = pairs
      .filter(([key]) => !['code', 'state'].includes(decode(key ?? '')))
      .map((pair) => pair.join('='))
      .join('&')
    globals.history?.replaceState(
      globals.history.state,
      '',
      `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`,
    )
    const sentAt = now()
    const res = await call('POST', paths.login, {
      code,
      ...(state ? { state } : {}),
      ...(app ? { appId: app } : {}),
    })
    return keep(res, sentAt, paths.login)
  }

  async function scanLogin({
    appId: app = appId,
    onCode,
    onStatus,
    intervalMs = 3000,
    signal,
  }: ScanLoginOptions): Promise<WxaSession<User>> {
    const stopped = () => {
      if (signal?.aborted) throw signal.reason ?? new Error('scanLogin: aborted')
    }
    stopped()
    // One listener for the whole poll: it ends the wait under way.
    const aborted =
      signal && new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()))
    const started = await call('POST', '/auth/scan', app ? { appId: app } : {})
    if (started.statusCode !== 200) throw errorFrom(started, '/auth/scan')
    const { ticket, qrcode, expiresAt } = started.data as Record<string, string>
    if (!ticket || !qrcode) {
      throw new WxaClientError('BAD_RESPONSE', '/auth/scan answered without a ticket and a code')
    }
    onCode(qrcode, { ticket, expiresAt: String(expiresAt) })
    const path = `/auth/scan/${encodeURIComponent(ticket)}`
    let last: string | undefined
    let lost = 0
    for (;;) {
      await wait(intervalMs)
      const sentAt = now()
      let res: AdapterResponse
      try {
        res = await call('GET', path)
      } catch (error) {
        // A poll without an answer is asked again, a few times in a row at most.
        if (++lost > 3) throw error
        continue
      }
      lost = 0
      const busy = retryAfter(res)
      if (busy !== undefined) {
        await wait(Math.max(busy - intervalMs, 0))
        continue
      }
      if (res.statusCode !== 200) throw errorFrom(res, path)
      const status = (res.data as { status?: string } | null)?.status
      if (status === 'confirmed') return keep(res, sentAt, path)
      if (status === 'denied') {
        throw new WxaClientError('SCAN_DENIED', 'the user refused this login on the phone')
      }
      if (status === 'expired') {
        throw new WxaClientError('SCAN_TICKET_EXPIRED', 'the code expired: show a new one', {
          serverCode: 'SCAN_TICKET_EXPIRED',
        })
      }
      if (status !== 'pending' && status !== 'scanned') {
        throw new WxaClientError('BAD_RESPONSE', `${path} answered status ${status}`)
      }
      if (status !== last) onStatus?.(status)
      last = status
    }

    /** Sleeps `ms`, cut short by the signal (which rejects). */
    async function wait(ms: number) {
      stopped()
      await (aborted ? Promise.race([sleep(ms), aborted]) : sleep(ms))
      stopped()
    }
  }

  return { ...client, authorize, completeLogin, scanLogin }
}
