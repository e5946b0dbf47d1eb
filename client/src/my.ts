import type { AdapterResponse, RequestData, RuntimeError, WxaAdapter } from './adapters'
import { authCodeOf } from './alipay-login'

type Done<T> = { success?: (result: T) => void; fail?: (error: MyError) => void }

/** What Alipay's runtime calls `fail` with: `{ error, errorMessage }`; an HTTP error also brings the answer. */
interface MyError {
  error?: number
  errorMessage?: string
  errMsg?: string
  status?: number
  data?: unknown
  headers?: Record<string, string>
}

interface MyAnswer {
  status?: number
  statusCode?: number
  data: unknown
  headers?: Record<string, string>
  header?: Record<string, string>
}

/** The part of Alipay's `my` the SDK uses. Storage takes objects (`{ key }`), unlike `wx`. */
export interface MyApi {
  request(
    option: {
      url: string
      method?: string
      data?: RequestData
      headers?: Record<string, string>
      dataType?: string
    } & Done<MyAnswer>,
  ): unknown
  uploadFile(
    option: {
      url: string
      filePath: string
      fileName: string
      fileType: string
      formData?: Record<string, string>
      header?: Record<string, string>
    } & Done<MyAnswer>,
  ): unknown
  downloadFile(
    option: { url: string; header?: Record<string, string> } & Done<{
      apFilePath?: string
      tempFilePath?: string
      statusCode?: number
    }>,
  ): unknown
  getAuthCode(option: { scopes: string } & Done<{ authCode?: string }>): unknown
  getStorageSync(option: { key: string }): { data?: unknown } | undefined
  setStorageSync(option: { key: string; data: unknown }): unknown
  removeStorageSync(option: { key: string }): unknown
}

const failure = (e: MyError | undefined): RuntimeError => ({
  errMsg: e?.errMsg ?? `fail ${e?.error ?? ''} ${e?.errorMessage ?? ''}`.trim(),
})

/** An answer, whatever its status: Alipay fails a non-2xx request, and brings the answer with it. */
const answer = (res: MyAnswer | MyError): AdapterResponse => ({
  statusCode: (res as MyAnswer).statusCode ?? res.status ?? 0,
  data: res.data,
  header: (res as MyAnswer).header ?? res.headers ?? {},
})

function call<T, R>(start: (done: Done<T>) => unknown, ok: (result: T) => R): Promise<R> {
  return new Promise((resolve, reject) => {
    start({
      success: (result) => resolve(ok(result)),
      fail: (e) => (typeof e?.status === 'number' ? resolve(answer(e) as R) : reject(failure(e))),
    })
  })
}

/**
 * The adapter for Alipay's runtime, `my`: `my.getAuthCode({ scopes:
 * 'auth_base' })` gives the login code, `my.request` (whose non-2xx answers
 * arrive through `fail`) the answers, and storage takes `{ key }` objects.
 * Set the client's `appId` when the server serves apps of several platforms.
 * The phone number: `client.phone({ response, sign })` with what
 * `my.getPhoneNumber` gives (its `response` is JSON: parse it first).
 *
 * @param my default: the mini program's global `my`
 */
export function myAdapter(my?: MyApi): WxaAdapter {
  const api = my ?? (globalThis as { my?: MyApi }).my
  if (!api) throw new TypeError('myAdapter: no `my` (not in an Alipay mini program? pass it)')
  return {
    request: ({ url, method, data, header }) =>
      call<MyAnswer, AdapterResponse>(
        (done) =>
          api.request({
            url,
            method,
            // my.request form-encodes objects unless told: the SDK's bodies are JSON.
            data:
              typeof data === 'object' && !(data instanceof ArrayBuffer) && method !== 'GET'
                ? JSON.stringify(data)
                : data,
            headers: header,
            dataType: 'json',
            ...done,
          }),
        answer,
      ),
    uploadFile: ({ name, ...option }) =>
      call<MyAnswer, AdapterResponse>(
        (done) => api.uploadFile({ ...option, fileName: name, fileType: 'image', ...done }),
        answer,
      ),
    downloadFile: (option) =>
      call<
        { apFilePath?: string; tempFilePath?: string; statusCode?: number },
        { statusCode: number; tempFilePath: string }
      >(
        (done) => api.downloadFile({ ...option, ...done }),
        (r) => ({
          statusCode: r.statusCode ?? 200,
          tempFilePath: r.tempFilePath ?? r.apFilePath ?? '',
        }),
      ),
    login: () =>
      authCodeOf(api)().then(
        (code) => code || Promise.reject({ errMsg: 'getAuthCode:fail no code' }),
      ),
    getStorage: (key) => api.getStorageSync({ key })?.data,
    setStorage: (key, value) => void api.setStorageSync({ key, data: value }),
    removeStorage: (key) => void api.removeStorageSync({ key }),
  }
}
