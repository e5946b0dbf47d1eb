import { alipayLogin } from './alipay-login'

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
 * What a runtime's login gives: the code, and on Douyin an anonymous code
 * beside it; no code at all from {@link cloudAdapter} with `login: 'headers'`.
 */
export interface LoginCodes {
  code?: string
  anonymousCode?: string
}

/**
 * What the SDK needs from a mini program runtime. Network calls resolve with
 * every HTTP answer and reject only when there is none (offline, DNS, TLS,
 * timeout), with the runtime's own error object. {@link wxAdapter},
 * {@link ttAdapter}, {@link qqAdapter}, {@link taroAdapter} and
 * {@link uniAdapter} come with it.
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
  /**
   * A login code (`wx.login`, `tt.login`, `qq.login`), or the code with
   * Douyin's `anonymousCode`; rejects when the runtime gives no code.
   */
  login(): Promise<string | LoginCodes>
  getStorage(key: string): unknown
  setStorage(key: string, value: unknown): void
  removeStorage(key: string): void
}

/** The error objects the runtimes call `fail` with: `{ errMsg }`. */
export interface RuntimeError {
  errMsg: string
}

type Callbacks<T> = { success?: (result: T) => void; fail?: (error: RuntimeError) => void }
type LoginResult = { code?: string; anonymousCode?: string }
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
  /** Taro H5: send cookies along (its default); the SDK sends `false`. */
  withCredentials?: boolean
}
interface DownloadOption {
  url: string
  header?: Record<string, string>
}

/** The part of `wx` (WeChat), `tt` (Douyin), `qq` (QQ) or `uni` (uni-app) the SDK uses: the callback style. */
export interface CallbackApi {
  request(option: RequestOption & Callbacks<RequestResult>): unknown
  uploadFile(option: UploadOption & Callbacks<UploadResult>): unknown
  downloadFile(option: DownloadOption & Callbacks<DownloadResult>): unknown
  login(option: { provider?: 'weixin' } & Callbacks<LoginResult>): unknown
  getStorageSync(key: string): unknown
  setStorageSync(key: string, data: unknown): void
  removeStorageSync(key: string): void
}

/** The part of Taro (`import Taro from '@tarojs/taro'`) the SDK uses: promises. */
export interface TaroApi {
  request(option: RequestOption): Promise<RequestResult>
  uploadFile(option: UploadOption): Promise<UploadResult>
  downloadFile(option: DownloadOption): Promise<DownloadResult>
  login(option?: Record<string, never>): Promise<LoginResult>
  getStorageSync(key: string): unknown
  setStorageSync(key: string, data: unknown): void
  removeStorageSync(key: string): void
}

// Douyin's anonymousCode goes along when the runtime gives one (tt.login; Taro and uni-app on tt).
const codeOf = ({ code, anonymousCode }: LoginResult): string | LoginCodes | Promise<never> =>
  code
    ? anonymousCode
      ? { code, anonymousCode }
      : code
    : Promise.reject({ errMsg: 'login:fail no code' })

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
      call<LoginResult>((cb) => api.login({ ...(provider ? { provider } : {}), ...cb })).then(
        codeOf,
      ),
    getStorage: (key) => api.getStorageSync(key),
    setStorage: (key, value) => api.setStorageSync(key, value),
    removeStorage: (key) => api.removeStorageSync(key),
  }
}

/** The runtime global `name`, or a TypeError naming the adapter. */
function runtime(api: CallbackApi | undefined, name: string): CallbackApi {
  const found = api ?? (globalThis as unknown as Record<string, CallbackApi | undefined>)[name]
  if (!found) throw new TypeError(`${name}Adapter: no \`${name}\` (not in a mini program? pass it)`)
  return found
}

/**
 * The adapter for WeChat's own runtime: `wx.request`, `wx.uploadFile`,
 * `wx.downloadFile`, `wx.login` and the `*StorageSync` calls.
 *
 * @param wx default: the mini program's global `wx`
 */
export function wxAdapter(wx?: CallbackApi): WxaAdapter {
  return callbackAdapter(runtime(wx, 'wx'))
}

/**
 * The adapter for Douyin's (Toutiao's) runtime, `tt`: the same calls as
 * `wx`; `tt.login` gives an `anonymousCode` beside the code, and both go to
 * the server. Set the client's `appId` when the server serves apps of
 * several platforms.
 *
 * @param tt default: the mini program's global `tt`
 */
export function ttAdapter(tt?: CallbackApi): WxaAdapter {
  return callbackAdapter(runtime(tt, 'tt'))
}

/**
 * The adapter for QQ's runtime, `qq`: the same calls as `wx`. Set the
 * client's `appId` when the server serves apps of several platforms.
 *
 * @param qq default: the mini program's global `qq`
 */
export function qqAdapter(qq?: CallbackApi): WxaAdapter {
  return callbackAdapter(runtime(qq, 'qq'))
}

/** The methods every adapter over `uni` or `Taro` needs, besides `login`. */
const METHODS = [
  'request',
  'uploadFile',
  'downloadFile',
  'getStorageSync',
  'setStorageSync',
  'removeStorageSync',
] as const

/**
 * The runtime object, or a TypeError naming what it lacks: uni-app's and
 * Taro's H5 compilers turn `uni.xxx` and `Taro.xxx` into imports, so the
 * object alone has no methods there.
 */
function methods<T extends object>(api: T | undefined, name: string, adapter: string): T {
  if (!api) throw new TypeError(`${adapter}: no \`${name}\` (pass it)`)
  const missing = METHODS.filter(
    (method) => typeof (api as Record<string, unknown>)[method] !== 'function',
  )
  if (missing.length) {
    throw new TypeError(
      `${adapter}: ${missing.map((method) => `${name}.${method}`).join(', ')} is not a function (H5 builds turn ${name}.xxx into imports): name the methods one by one, ${adapter}({ request: ${name}.request, uploadFile: ${name}.uploadFile, … })`,
    )
  }
  return api
}

/** An adapter whose login is `login` (a code the page was given) where there is one. */
function withLogin(
  adapter: WxaAdapter,
  login: (() => string | Promise<string>) | undefined,
  none: string,
): WxaAdapter {
  const own = adapter.login
  adapter.login = login
    ? () =>
        Promise.resolve()
          .then(login)
          .then(
            (code) => codeOf({ code }),
            (cause: { errMsg?: string; message?: string } | null) =>
              Promise.reject({ errMsg: cause?.errMsg ?? `login:fail ${cause?.message ?? cause}` }),
          )
    : // H5 builds fail the runtime's login with "… not supported"; some lack it.
      () =>
        own().catch((error: RuntimeError | TypeError) =>
          Promise.reject(
            error instanceof TypeError || /not supported/.test(error?.errMsg)
              ? { errMsg: none }
              : error,
          ),
        )
  return adapter
}

/** `uni` as the SDK takes it: the object, or its methods named one by one; `login` may be missing (H5). */
export type UniApi = Omit<CallbackApi, 'login'> & Partial<Pick<CallbackApi, 'login'>>

/** Options of {@link uniAdapter} and {@link taroAdapter}. */
export interface UniAdapterOptions {
  /**
   * Gives the login code where the runtime cannot: the H5 builds (a browser
   * has no `wx.login`). The code must still be a mini program's `wx.login`
   * code, e.g. one the mini program put into the URL of the `<web-view>`
   * that shows the page. Default: `uni.login({ provider: 'weixin' })`, `Taro.login()`.
   */
  login?: () => string | Promise<string>
}

const NO_LOGIN = (adapter: string) =>
  `login:fail there is no login code here (an H5 build has none): pass ${adapter}({ … }, { login }) with a code from the mini program`

/**
 * The adapter for uni-app: `uni.request` and friends, with callbacks, and
 * `uni.login({ provider: 'weixin' })`, or `options.login` where there is no
 * such login (the H5 build, whose `uni.login` is not supported). Name the
 * methods one by one: uni-app's H5 compiler turns `uni.xxx` into imports,
 * so the object `uni` has no methods there (`uniAdapter(uni)` works in mini
 * program builds only).
 *
 * @param uni `{ request: uni.request, uploadFile: uni.uploadFile, … }`, or the global `uni`
 * @example
 * ```ts
 * // H5: the mini program opened this page in a <web-view> with ?code=<wx.login code>
 * const code = new URLSearchParams(location.search).get('code') ?? ''
 * const adapter = uniAdapter({ request: uni.request, … }, { login: () => code })
 * ```
 */
export function uniAdapter(uni?: UniApi, options: UniAdapterOptions = {}): WxaAdapter {
  const api = methods(uni ?? (globalThis as { uni?: UniApi }).uni, 'uni', 'uniAdapter')
  const adapter = callbackAdapter(api as CallbackApi, 'weixin')
  return withLogin(adapter, options.login ?? alipayLogin(), NO_LOGIN('uniAdapter'))
}

/** `Taro` as the SDK takes it: the object, or its methods named one by one; `login` may be missing (H5). */
export type TaroMethods = Omit<TaroApi, 'login'> & Partial<Pick<TaroApi, 'login'>>

/**
 * The adapter for Taro: `Taro.request` and friends return promises that
 * reject with the runtime's `{ errMsg }`. Name the methods one by one:
 * Taro's H5 build turns `Taro.xxx` into imports, so the object `Taro` has
 * no methods there. Uploads go without credentials (`withCredentials:
 * false`; Taro's H5 `uploadFile` sends cookies otherwise, which wxa-auth's
 * CORS does not allow).
 *
 * @param taro `{ request: Taro.request, uploadFile: Taro.uploadFile, … }`, or `Taro` itself in a mini program build
 * @example
 * ```ts
 * import Taro from '@tarojs/taro'
 * const adapter = taroAdapter({ request: Taro.request, … , login: Taro.login })
 * ```
 */
export function taroAdapter(taro: TaroMethods, options: UniAdapterOptions = {}): WxaAdapter {
  const api = methods(taro, 'Taro', 'taroAdapter')
  return withLogin(
    {
      request: (option) => api.request({ ...option, dataType: 'json' }).then(normalize),
      uploadFile: (option) => api.uploadFile({ ...option, withCredentials: false }).then(normalize),
      downloadFile: (option) => api.downloadFile(option),
      login: () =>
        api.login ? api.login().then(codeOf) : Promise.reject(new TypeError('no Taro.login')),
      getStorage: (key) => api.getStorageSync(key),
      setStorage: (key, value) => api.setStorageSync(key, value),
      removeStorage: (key) => api.removeStorageSync(key),
    },
    options.login ?? alipayLogin(),
    NO_LOGIN('taroAdapter'),
  )
}

/** The part of `wx.cloud` the SDK uses: `callContainer`, with callbacks. */
export interface CloudApi {
  callContainer(
    option: {
      config: { env: string }
      path: string
      method?: Method
      data?: RequestData
      header?: Record<string, string>
      dataType?: string
    } & Callbacks<RequestResult>,
  ): unknown
}

export interface CloudAdapterOptions {
  /** The Cloud Hosting environment id (云托管环境 ID), e.g. `prod-xxxxxxxx`. */
  env: string
  /** The service's name (服务名称), sent as `X-WX-SERVICE`. */
  service: string
  /**
   * `code` (default): `wx.login`, as with any server. `headers`: no code is
   * sent, and a server with `CLOUD_HOSTING=wechat` logs in the user WeChat's
   * gateway names (`X-WX-OPENID`); any other server answers 400.
   */
  login?: 'code' | 'headers'
  /** @default the mini program's global `wx` */
  wx?: CallbackApi & { cloud?: CloudApi }
  /** @default `wx.cloud` (call `wx.cloud.init()` first; base library 2.13.1 or later) */
  cloud?: CloudApi
}

/**
 * The adapter for WeChat Cloud Hosting (微信云托管): the SDK's requests go
 * through `wx.cloud.callContainer` to `service` in `env`, which needs no
 * request domain and no ICP filing. Of the client's `baseUrl` only the path
 * counts: callContainer takes `/auth/login`, not a URL. `callContainer` has no uploads or
 * downloads: those still use `wx.uploadFile` / `wx.downloadFile` at `baseUrl`.
 *
 * @example
 * ```ts
 * wx.cloud.init()
 * const api = createClient({
 *   baseUrl: 'https://wxa-auth.callcontainer', // a name only: callContainer gets the path
 *   adapter: cloudAdapter({ env: 'prod-xxxxxxxx', service: 'wxa-auth' }),
 * })
 * ```
 */
export function cloudAdapter({ env, service, login, wx, cloud }: CloudAdapterOptions): WxaAdapter {
  const api = runtime(wx, 'wx') as CallbackApi & { cloud?: CloudApi }
  const container = (cloud ?? api.cloud) as CloudApi
  const adapter = callbackAdapter(api)
  return {
    ...adapter,
    request: ({ url, method, data, header }) =>
      new Promise<RequestResult>((success, fail) => {
        container.callContainer({
          config: { env },
          path: url.replace(/^\w+:\/\/[^/]*/, ''),
          method,
          data,
          header: { ...header, 'X-WX-SERVICE': service },
          dataType: 'json',
          success,
          fail,
        })
      }).then(normalize),
    login: login === 'headers' ? () => Promise.resolve({}) : adapter.login,
  }
}
