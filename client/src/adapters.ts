/** The HTTP methods of `wx.request`, `Taro.request` and `uni.request` (no PATCH). */
export type Method = 'OPTIONS' | 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'TRACE' | 'CONNECT'

/** A request body or GET query: JSON for objects. */
export type RequestData = string | Record<string, unknown> | ArrayBuffer

/** An answer from the server: any status, 4xx and 5xx included. */
export interface AdapterResponse {
  statusCode: number
  /** Parsed JSON when the body is JSON; an upload's body is its text. */
  data: unknown
  header: Record<string, string>
}

/**
 * What the SDK needs from a mini program runtime. Network calls resolve with
 * every HTTP answer and reject only when there is none (offline, DNS, TLS,
 * timeout), with the runtime's own error object. {@link wxAdapter},
 * {@link taroAdapter} and {@link uniAdapter} are the three that come with it.
 */
export interface WxaAdapter {
  request(option: {
    url: string
    method: Method
    data?: RequestData
    header: Record<string, string>
  }): Promise<AdapterResponse>
  uploadFile(option: {
    url: string
    filePath: string
    name: string
    formData?: Record<string, string>
    header: Record<string, string>
  }): Promise<AdapterResponse>
  downloadFile(option: {
    url: string
    header: Record<string, string>
  }): Promise<{ statusCode: number; tempFilePath: string }>
  /** A login code (`wx.login`); rejects when the runtime gives none. */
  login(): Promise<string>
  getStorage(key: string): unknown
  setStorage(key: string, value: unknown): void
  removeStorage(key: string): void
}

/** The error objects the runtimes call `fail` with: `{ errMsg }`. */
export interface RuntimeError {
  errMsg: string
}

type Callbacks<T> = { success?: (result: T) => void; fail?: (error: RuntimeError) => void }
type RequestResult = { statusCode: number; data: unknown; header?: Record<string, string> }
type UploadResult = { statusCode: number; data: unknown; header?: Record<string, string> }
type DownloadResult = { statusCode: number; tempFilePath: string }

/** The request options the three runtimes share; they all call the headers `header`. */
interface RequestOption {
  url: string
  method?: Method
  data?: RequestData
  header?: Record<string, string>
  dataType?: string
}
interface UploadOption {
  url: string
  filePath: string
  name: string
  formData?: Record<string, string>
  header?: Record<string, string>
}
interface DownloadOption {
  url: string
  header?: Record<string, string>
}

/** The part of `wx` (WeChat) or `uni` (uni-app) the SDK uses: the callback style. */
export interface CallbackApi {
  request(option: RequestOption & Callbacks<RequestResult>): unknown
  uploadFile(option: UploadOption & Callbacks<UploadResult>): unknown
  downloadFile(option: DownloadOption & Callbacks<DownloadResult>): unknown
  login(option: { provider?: 'weixin' } & Callbacks<{ code?: string }>): unknown
  getStorageSync(key: string): unknown
  setStorageSync(key: string, data: unknown): void
  removeStorageSync(key: string): void
}

/** The part of Taro (`import Taro from '@tarojs/taro'`) the SDK uses: promises. */
export interface TaroApi {
  request(option: RequestOption): Promise<RequestResult>
  uploadFile(option: UploadOption): Promise<UploadResult>
  downloadFile(option: DownloadOption): Promise<DownloadResult>
  login(option?: Record<string, never>): Promise<{ code?: string }>
  getStorageSync(key: string): unknown
  setStorageSync(key: string, data: unknown): void
  removeStorageSync(key: string): void
}

const codeOf = (result: { code?: string }) =>
  result.code ? result.code : Promise.reject<string>({ errMsg: 'login:fail no code' })

const normalize = <T extends { header?: Record<string, string> }>(result: T) => ({
  ...result,
  header: result.header ?? {},
})

/**
 * An adapter over a callback-style runtime (`success` / `fail`), which is
 * how both `wx` and `uni` work whatever their promise forms do (uni-app's
 * Vue 2 promises resolve `[error, result]`, its Vue 3 ones do not).
 */
function callbackAdapter(api: CallbackApi, provider?: 'weixin'): WxaAdapter {
  const call = <T>(start: (callbacks: Callbacks<T>) => unknown) =>
    new Promise<T>((success, fail) => {
      start({ success, fail })
    })
  return {
    request: (option) =>
      call<RequestResult>((cb) => api.request({ ...option, dataType: 'json', ...cb })).then(
        normalize,
      ),
    uploadFile: (option) =>
      call<UploadResult>((cb) => api.uploadFile({ ...option, ...cb })).then(normalize),
    downloadFile: (option) => call<DownloadResult>((cb) => api.downloadFile({ ...option, ...cb })),
    login: () =>
      call<{ code?: string }>((cb) => api.login({ ...(provider ? { provider } : {}), ...cb })).then(
        codeOf,
      ),
    getStorage: (key) => api.getStorageSync(key),
    setStorage: (key, value) => api.setStorageSync(key, value),
    removeStorage: (key) => api.removeStorageSync(key),
  }
}

/**
 * The adapter for WeChat's own runtime: `wx.request`, `wx.uploadFile`,
 * `wx.downloadFile`, `wx.login` and the `*StorageSync` calls.
 *
 * @param wx default: the mini program's global `wx`
 */
export function wxAdapter(wx?: CallbackApi): WxaAdapter {
  const api = wx ?? (globalThis as { wx?: CallbackApi }).wx
  if (!api) throw new TypeError('wxAdapter: no `wx` (not in a mini program? pass it)')
  return callbackAdapter(api)
}

/** `uni` as the SDK takes it: on uni-app's H5 build `uni.login` fails or is missing. */
export type UniApi = Omit<CallbackApi, 'login'> & Partial<Pick<CallbackApi, 'login'>>

export interface UniAdapterOptions {
  /**
   * Gives the login code where `uni.login` cannot: uni-app's H5 build (a
   * browser has no `wx.login`). The code must still be a mini program's
   * `wx.login` code, e.g. one the mini program put into the URL of the
   * `<web-view>` that shows the page. Default: `uni.login({ provider: 'weixin' })`.
   */
  login?: () => string | Promise<string>
}

const NO_LOGIN =
  "login:fail uni.login gives no code here (uni-app's H5 build has none): pass uniAdapter(uni, { login }) with a code from the mini program"

/**
 * The adapter for uni-app: `uni.request` and friends, with callbacks, and
 * `uni.login({ provider: 'weixin' })`, or `options.login` where there is no
 * such login (the H5 build, whose `uni.login` is not supported).
 *
 * @param uni default: the global `uni` (a bundler injects it; the H5 build has no global)
 * @example
 * ```ts
 * // H5: the mini program opened this page in a <web-view> with ?code=<wx.login code>
 * const code = new URLSearchParams(location.search).get('code') ?? ''
 * const api = createClient({ baseUrl, adapter: uniAdapter(uni, { login: () => code }) })
 * ```
 */
export function uniAdapter(uni?: UniApi, options: UniAdapterOptions = {}): WxaAdapter {
  const api = uni ?? (globalThis as { uni?: UniApi }).uni
  if (!api) throw new TypeError('uniAdapter: no `uni` (not in uni-app? pass it)')
  const own = options.login
  const adapter = callbackAdapter(api as CallbackApi, 'weixin')
  const fromUni = adapter.login
  adapter.login = own
    ? () =>
        Promise.resolve()
          .then(own)
          .then(
            (code) => codeOf({ code }),
            (cause: { errMsg?: string; message?: string } | null) =>
              Promise.reject({ errMsg: cause?.errMsg ?? `login:fail ${cause?.message ?? cause}` }),
          )
    : // uni-app's H5 build fails uni.login with "method 'uni.login' not supported"; older ones lack it.
      () =>
        typeof api.login !== 'function'
          ? Promise.reject({ errMsg: NO_LOGIN })
          : fromUni().catch((error: RuntimeError) =>
              Promise.reject(/not supported/.test(error?.errMsg) ? { errMsg: NO_LOGIN } : error),
            )
  return adapter
}

/**
 * The adapter for Taro: `Taro.request` and friends return promises that
 * reject with the runtime's `{ errMsg }`.
 *
 * @param taro `import Taro from '@tarojs/taro'`
 * @example
 * ```ts
 * import Taro from '@tarojs/taro'
 * const api = createClient({ baseUrl: 'https://api.example.com', adapter: taroAdapter(Taro) })
 * ```
 */
export function taroAdapter(taro: TaroApi): WxaAdapter {
  if (!taro) throw new TypeError('taroAdapter: pass Taro (import Taro from "@tarojs/taro")')
  return {
    request: (option) => taro.request({ ...option, dataType: 'json' }).then(normalize),
    uploadFile: (option) => taro.uploadFile(option).then(normalize),
    downloadFile: (option) => taro.downloadFile(option),
    login: () => taro.login().then(codeOf),
    getStorage: (key) => taro.getStorageSync(key),
    setStorage: (key, value) => taro.setStorageSync(key, value),
    removeStorage: (key) => taro.removeStorageSync(key),
  }
}
