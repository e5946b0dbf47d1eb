import type { CallbackApi, CloudApi, MyApi, TaroApi, UniApi } from '../src'
import type { Device } from './device'

// Stand-ins for the runtimes (wx, tt, qq, Taro, uni-app), and only for them:
// each gives the device's real HTTP, login and storage the call shapes of its
// framework. All of them name the request headers `header` (not fetch's `headers`) and
// fail with `{ errMsg: '<api>:fail <reason>' }`; a `headers` key is ignored,
// as the frameworks ignore it.

const errMsg = (api: string, error: unknown) => ({
  errMsg: `${api}:fail ${error instanceof Error ? error.message : String(error)}`,
})

/** What a runtime's `login` calls `success` with. */
type LoginAnswer = { code: string; anonymousCode?: string; isLogin?: boolean; errMsg: string }

/** WeChat's `wx`: callbacks only (`wx.request` returns a RequestTask, not a promise). */
export function wxStandIn(phone: Device): CallbackApi {
  return callbackStandIn(phone, async () => ({ code: await phone.login(), errMsg: 'login:ok' }))
}

/** QQ's `qq`: WeChat's call shapes, `qq.login` gives a code. */
export const qqStandIn = wxStandIn

/**
 * Douyin's `tt`: WeChat's call shapes; `tt.login({ force })` gives the code,
 * an `anonymousCode` and `isLogin`.
 */
export function ttStandIn(phone: Device): CallbackApi {
  return callbackStandIn(phone, async () => ({
    ...(await phone.loginCodes()),
    isLogin: true,
    errMsg: 'login:ok',
  }))
}

/** A callback-style runtime over the device; `login` makes what the runtime's login answers. */
function callbackStandIn(phone: Device, login: () => Promise<LoginAnswer>): CallbackApi {
  return {
    request({ url, method = 'GET', data, header = {}, success, fail }) {
      phone.request(url, method, data, header).then(success, (e) => fail?.(errMsg('request', e)))
      return { abort() {} }
    },
    uploadFile({ url, filePath, name, formData, header = {}, success, fail }) {
      phone
        .upload(url, filePath, name, formData, header)
        .then(success, (e) => fail?.(errMsg('uploadFile', e)))
      return { abort() {} }
    },
    downloadFile({ url, header = {}, success, fail }) {
      phone.download(url, header).then(success, (e) => fail?.(errMsg('downloadFile', e)))
      return { abort() {} }
    },
    login({ success, fail }) {
      login().then(success, (e) => fail?.(errMsg('login', e)))
    },
    getStorageSync: phone.getStorage,
    setStorageSync: phone.setStorage,
    removeStorageSync: phone.removeStorage,
  }
}

/**
 * Taro (`@tarojs/taro`): every call returns a promise that resolves with the
 * success result and rejects with the fail result, `{ errMsg }`. Built for
 * tt (`platform`), `Taro.login` gives what `tt.login` gives.
 */
export function taroStandIn(phone: Device, platform: 'weapp' | 'tt' | 'qq' = 'weapp') {
  const settle = <T>(api: string, work: Promise<T>) =>
    work.catch((e: unknown) => Promise.reject(errMsg(api, e)))
  const taro = {
    request: (option: Parameters<TaroApi['request']>[0]) =>
      settle(
        'request',
        phone.request(option.url, option.method ?? 'GET', option.data, option.header ?? {}),
      ),
    uploadFile: (option: Parameters<TaroApi['uploadFile']>[0]) =>
      settle(
        'uploadFile',
        phone.upload(
          option.url,
          option.filePath,
          option.name,
          option.formData,
          option.header ?? {},
        ),
      ),
    downloadFile: (option: Parameters<TaroApi['downloadFile']>[0]) =>
      settle('downloadFile', phone.download(option.url, option.header ?? {})),
    login: () =>
      settle(
        'login',
        (platform === 'tt' ? phone.loginCodes() : phone.login().then((code) => ({ code }))).then(
          (codes) => ({ ...codes, errMsg: 'login:ok' }),
        ),
      ),
    getStorageSync: phone.getStorage,
    setStorageSync: phone.setStorage,
    removeStorageSync: phone.removeStorage,
  } satisfies TaroApi
  return taro
}

/**
 * uni-app's `uni`: callbacks, or without any callback a promise that in
 * Vue 2 projects resolves to `[error, result]` and never rejects (Vue 3
 * projects resolve and reject); `uni.login` names its `provider`.
 */
export function uniStandIn(phone: Device) {
  type Option<T> = {
    success?: (result: T) => void
    fail?: (error: { errMsg: string }) => void
  }
  const both = <T>(api: string, option: Option<T>, work: Promise<T>) => {
    if (option.success || option.fail) {
      work.then(option.success, (e) => option.fail?.(errMsg(api, e)))
      return { abort() {} }
    }
    return work.then(
      (result) => [null, result],
      (e) => [errMsg(api, e), undefined],
    )
  }
  /** The providers `uni.login` was called with. */
  const providers: (string | undefined)[] = []
  const uni = {
    request: (option: Parameters<CallbackApi['request']>[0]) =>
      both(
        'request',
        option,
        phone.request(option.url, option.method ?? 'GET', option.data, option.header ?? {}),
      ),
    uploadFile: (option: Parameters<CallbackApi['uploadFile']>[0]) =>
      both(
        'uploadFile',
        option,
        phone.upload(
          option.url,
          option.filePath,
          option.name,
          option.formData,
          option.header ?? {},
        ),
      ),
    downloadFile: (option: Parameters<CallbackApi['downloadFile']>[0]) =>
      both('downloadFile', option, phone.download(option.url, option.header ?? {})),
    login: (option: Parameters<CallbackApi['login']>[0]) => {
      providers.push(option.provider)
      return both(
        'login',
        option,
        phone.login().then((code) => ({ code, errMsg: 'login:ok' })),
      )
    },
    getStorageSync: phone.getStorage,
    setStorageSync: phone.setStorage,
    removeStorageSync: phone.removeStorage,
  } satisfies CallbackApi
  return Object.assign(uni, { providers })
}

/**
 * uni-app's H5 build (Vue 3), as `@dcloudio/uni-h5` makes `uni`: a module
 * namespace (frozen, no prototype); request, uploadFile and downloadFile over
 * XHR with callbacks, or without any a promise that resolves or rejects;
 * `uni.login` defined but unsupported (it fails with
 * `login:fail method 'uni.login' not supported`), or, with
 * `{ login: 'absent' }`, missing as in older builds.
 */
export function uniH5StandIn(phone: Device, { login = 'unsupported' } = {}) {
  type Option<T> = { success?: (result: T) => void; fail?: (error: { errMsg: string }) => void }
  const api = <T>(name: string, option: Option<T>, work: () => Promise<T>) => {
    const settled = work().catch((e: unknown) => Promise.reject(errMsg(name, e)))
    if (!option.success && !option.fail) return settled
    settled.then(option.success, option.fail)
    return { abort() {} }
  }
  const uni = Object.create(null) as Record<string, unknown>
  Object.assign(uni, {
    request: (option: Parameters<CallbackApi['request']>[0]) =>
      api('request', option, () =>
        phone.request(option.url, option.method ?? 'GET', option.data, option.header ?? {}),
      ),
    uploadFile: (option: Parameters<CallbackApi['uploadFile']>[0]) =>
      api('uploadFile', option, () =>
        phone.upload(
          option.url,
          option.filePath,
          option.name,
          option.formData,
          option.header ?? {},
        ),
      ),
    downloadFile: (option: Parameters<CallbackApi['downloadFile']>[0]) =>
      api('downloadFile', option, () => phone.download(option.url, option.header ?? {})),
    getStorageSync: phone.getStorage,
    setStorageSync: phone.setStorage,
    removeStorageSync: phone.removeStorage,
    ...(login === 'unsupported'
      ? {
          login: (option: Parameters<CallbackApi['login']>[0]) =>
            api('login', option, () =>
              Promise.reject(new Error("method 'uni.login' not supported")),
            ),
        }
      : {}),
  })
  return Object.freeze(uni) as unknown as UniApi
}

/** One `wx.cloud.callContainer` call as the stand-in received it. */
export interface ContainerCall {
  env: string | undefined
  service: string | undefined
  path: string
}

/**
 * WeChat's `wx` with `wx.cloud.callContainer`: the call goes to the device's
 * HTTP at `gateway` + `path`, as Cloud Hosting routes it to the service of
 * `config.env` named by `X-WX-SERVICE`; without either it fails, as the
 * runtime does.
 */
export function wxCloudStandIn(phone: Device, gateway: string) {
  const calls: ContainerCall[] = []
  const cloud: CloudApi = {
    callContainer({ config, path, method = 'GET', data, header = {}, success, fail }) {
      const service = header['X-WX-SERVICE']
      calls.push({ env: config?.env, service, path })
      if (!config?.env || !service || !path.startsWith('/')) {
        fail?.({ errMsg: 'cloud.callContainer:fail invalid env, service or path' })
        return
      }
      const { 'X-WX-SERVICE': _service, ...rest } = header
      phone
        .request(`${gateway}${path}`, method, data, rest)
        .then(success, (e) => fail?.(errMsg('cloud.callContainer', e)))
    },
  }
  return Object.assign(wxStandIn(phone), { cloud, calls })
}

/**
 * Alipay's `my`: `my.getAuthCode` gives `authCode`; `my.request` takes
 * `headers`, answers `{ status, data, headers }` and fails a non-2xx answer
 * with error 19 and the answer beside it; storage takes `{ key }` objects and
 * answers `{ data }`; failures are `{ error, errorMessage }`.
 */
export function myStandIn(phone: Device): MyApi {
  const failed = (e: unknown) => ({ error: 12, errorMessage: String(e) })
  return {
    request({ url, method = 'GET', data, headers = {}, success, fail }) {
      phone.request(url, method, data, headers).then(
        ({ statusCode, data, header }) =>
          statusCode >= 200 && statusCode < 300
            ? success?.({ status: statusCode, data, headers: header })
            : fail?.({
                error: 19,
                errorMessage: 'http status error',
                status: statusCode,
                data,
                headers: header,
              }),
        (e) => fail?.(failed(e)),
      )
    },
    uploadFile({ url, filePath, fileName, formData, header = {}, success, fail }) {
      phone
        .upload(url, filePath, fileName, formData, header)
        .then(success, (e) => fail?.(failed(e)))
    },
    downloadFile({ url, header = {}, success, fail }) {
      phone.download(url, header).then(
        ({ tempFilePath }) => success?.({ apFilePath: tempFilePath }),
        (e) => fail?.(failed(e)),
      )
    },
    getAuthCode({ scopes, success, fail }) {
      if (scopes !== 'auth_base') return fail?.({ error: 11, errorMessage: 'scopes' })
      phone.login().then(
        (authCode) => success?.({ authCode }),
        (e) => fail?.(failed(e)),
      )
    },
    getStorageSync: ({ key }) => ({ data: phone.getStorage(key) || null }),
    setStorageSync: ({ key, data }) => phone.setStorage(key, data),
    removeStorageSync: ({ key }) => phone.removeStorage(key),
  }
}
