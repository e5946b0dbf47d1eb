// The client's options, defaults and public types; no code runs here but the
// constants. client.ts makes the client, session.ts keeps its token.
import type { CallbackApi, Method, RequestData, WxaAdapter, wxAdapter } from './adapters'
import type { WxaClientError } from './errors'

export const DEFAULT_STORAGE_KEY = 'wxa-auth:session'
export const DEFAULT_REFRESH_AFTER = 0.5 // of the token's lifetime
export const DEFAULT_LOGIN_COOLDOWN = 10 * 1000 // 10 seconds, ms
export const DEFAULT_MAX_CONCURRENT = 10 // network calls in flight: WeChat's limit
export const DEFAULT_BUSY_RETRIES = 2 // per call, of an answer 429 / 503 with Retry-After
/**
 * The SDK's retries by their 0.3 name.
 *
 * @deprecated since 0.4: {@link DEFAULT_BUSY_RETRIES} (the server's platform
 *   calls have retries of their own)
 */
export const DEFAULT_RETRIES = DEFAULT_BUSY_RETRIES
export const DEFAULT_MAX_RETRY_WAIT = 10 * 1000 // ms; a longer Retry-After is not waited out
export const DEFAULT_PATHS: WxaPaths = {
  login: '/auth/login',
  refresh: '/auth/refresh',
  logout: '/auth/logout',
  decrypt: '/auth/decrypt',
  phone: '/auth/phone',
  profile: '/auth/profile',
}

/** The server's routes the SDK calls. */
export interface WxaPaths {
  login: string
  refresh: string
  logout: string
  decrypt: string
  phone: string
  profile: string
}

/** A login's or refresh's answer, as kept in storage. */
export interface WxaSession<User = Record<string, unknown>> {
  /** The access token, sent as `Authorization: JWT <token>`; short-lived (2 hours by default). */
  token: string
  /**
   * The refresh token, sent only to `POST /auth/refresh`; each refresh replaces
   * it. Absent in a session stored by SDK 0.3: its next refresh is a login.
   */
  refreshToken?: string
  /** The server's ISO 8601 end of the access token; shown, never compared with the device's clock. */
  expiresAt: string
  /** Seconds the access token had left when the server answered. */
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
  /** The runtime: {@link wxAdapter} (default), `ttAdapter(tt)`, `qqAdapter(qq)`, `myAdapter(my)`, `taroAdapter(Taro)` or `uniAdapter(uni)`. */
  adapter?: WxaAdapter
  /** Shorthand for `adapter: wxAdapter(wx)`, e.g. a stand-in in tests. */
  wx?: CallbackApi
  /**
   * The AppID sent with each login, when the server serves several mini
   * programs (of one platform or several: it picks the app, and so the platform).
   */
  appId?: string | undefined
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
   * answered 429 or 503 or not at all; default {@link DEFAULT_BUSY_RETRIES}.
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

/** The user's profile, as the server keeps it (`GET /auth/profile`). */
export interface WxaProfile {
  /** What the user typed into `<input type="nickname">`, checked by WeChat; null when none. */
  nickname: string | null
  /** Where the server serves the avatar; null when none. */
  avatarUrl: string | null
}

/** A profile change: either or both. */
export interface WxaProfileChange {
  /** The temporary file of `<button open-type="chooseAvatar">` (`event.detail.avatarUrl`). */
  avatarPath?: string
  /** The value of `<input type="nickname">`. */
  nickname?: string
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
   * `getData`. On `SESSION_KEY_STALE` it logs in again, calls
   * `getData` again and retries once. With `code` (a `wx.login` code got
   * before the data), the server decrypts with that code's session_key: the
   * way after a Cloud Hosting header login (`LOGIN_CODE_REQUIRED`).
   */
  decrypt<T = Record<string, unknown>>(
    getData: () => Promise<{ encryptedData: string; iv: string; code?: string }>,
  ): Promise<T>
  /** The phone number behind a phone-number button's code (`POST /auth/phone`); on Alipay, `my.getPhoneNumber`'s `{ response, sign }`. */
  phone(code: string | { response: string; sign: string }): Promise<WxaPhone>
  /** The user's profile (`GET /auth/profile`). */
  profile(): Promise<WxaProfile>
  /**
   * Sets the avatar, the nickname or both (`PUT /auth/profile`): an avatar is
   * uploaded with the runtime's `uploadFile` (field `avatar`, the nickname as a
   * form field), a nickname alone is sent as JSON. The same auth, refresh and
   * queue as every call; resolves with the profile as stored.
   */
  setProfile(change: WxaProfileChange): Promise<WxaProfile>
  /** Logs in now (`wx.login` -> `POST /auth/login`); joins a login or refresh already running. */
  login(): Promise<WxaSession<User>>
  /**
   * Answers a PC's scan-to-login (`POST /auth/scan/<ticket>/confirm`): `ticket`
   * is the page's `scene` option (decoded here). `'deny'` refuses it,
   * `'scanned'` only tells the PC the code was scanned, and resolves with
   * `pc`: the PC's browser (`userAgent`) and when it asked (`requestedAt`),
   * to show the user before they confirm. Logs in first if needed.
   */
  confirmScan(
    ticket: string,
    answer?: 'confirm' | 'deny' | 'scanned',
  ): Promise<{ ok: true; pc?: { userAgent?: string; requestedAt: number } }>
  /**
   * Ends the session on the server (`POST /auth/logout`) and forgets the token.
   * A 429, a 503 or no answer is retried (`retries`, waiting `Retry-After` up to
   * `maxRetryWait`, else 1 s, 2 s, …). The token is forgotten even when the
   * server cannot be reached; never rejects.
   */
  logout(): Promise<void>
  /** The stored session, or null when there is none or its lifetime is over by the device's clock. */
  session(): WxaSession<User> | null
  /**
   * The user's own copy of what the server keeps of them (`GET /auth/account/export`,
   * PIPL art. 45): identities, devices, profile, session data and their audit records.
   */
  exportAccount(): Promise<WxaAccountExport>
}

/** What `GET /auth/account/export` answers. */
export interface WxaAccountExport {
  uid: string
  identities: { platform: string; appId: string; openid: string; unionid?: string }[]
  devices: Record<string, unknown>[]
  profile: WxaProfile
  session: Record<string, unknown>
  /** An operator's ban that holds (none while logged in, unless set since). */
  ban: { reason: string; until?: number; at: number; by: string } | null
  audit: { at: number; type: string; actor: string; detail?: Record<string, unknown> }[]
  exportedAt: string
}
