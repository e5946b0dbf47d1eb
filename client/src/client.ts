// The request surface: createClient, its network calls through one queue
// (429/503 retried after Retry-After), request/uploadFile/downloadFile,
// decrypt, phone, profile and logout. session.ts keeps the token.
import { type AdapterResponse, type RequestData, wxAdapter } from './adapters'
import { type Answer, errorFrom, retryAfter } from './answers'
import { WxaClientError } from './errors'
import {
  DEFAULT_BUSY_RETRIES,
  DEFAULT_LOGIN_COOLDOWN,
  DEFAULT_MAX_CONCURRENT,
  DEFAULT_MAX_RETRY_WAIT,
  DEFAULT_PATHS,
  DEFAULT_REFRESH_AFTER,
  DEFAULT_STORAGE_KEY,
  type WxaAccountExport,
  type WxaClient,
  type WxaClientOptions,
  type WxaDownloadOptions,
  type WxaPhone,
  type WxaProfile,
  type WxaProfileChange,
  type WxaRequestOptions,
  type WxaResponse,
  type WxaUploadOptions,
} from './options'
import { limiter } from './queue'
import { tokens } from './session'
import { checkBaseUrl, joinUrl } from './url'

/** Ms before retrying a logout whose failure gave no Retry-After; doubled each time. */
const BACKOFF = 1000

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
    retries = DEFAULT_BUSY_RETRIES,
    maxRetryWait = DEFAULT_MAX_RETRY_WAIT,
    now = Date.now,
    sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  } = options
  if (!options.baseUrl) throw new TypeError('createClient: options.baseUrl is required')
  const base = checkBaseUrl(options.baseUrl)
  const adapter = options.adapter ?? wxAdapter(options.wx)
  const paths = { ...DEFAULT_PATHS, ...options.paths }
  const queued = limiter(maxConcurrent)

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

  const {
    read,
    session,
    forget,
    idle,
    login,
    ready,
    authed: withToken,
  } = tokens<User>(
    { adapter, appId, storageKey, refreshAfter, loginCooldown, maxRetryWait, paths, now },
    post,
  )

  /** `send` to `path` with the token (see session.ts); anything but 2xx rejects. */
  async function authed(
    path: string,
    send: (url: string, header: Record<string, string>) => Promise<Answer>,
    extra?: Record<string, string>,
  ): Promise<Answer> {
    joinUrl(base, path) // BAD_URL before any login or token
    const res = await withToken(path, (token) => call(path, send, token, extra))
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

  async function decrypt<T>(
    getData: () => Promise<{ encryptedData: string; iv: string; code?: string }>,
  ) {
    // Logged in before the data is made: a later wx.login would make its key stale.
    await ready()
    const attempt = async () => {
      const { encryptedData, iv, code } = await getData()
      return (await postData<{ data: T }>(paths.decrypt, { encryptedData, iv, code })).data
    }
    try {
      return await attempt()
    } catch (error) {
      if ((error as WxaClientError).code !== 'SESSION_KEY_STALE') throw error
      await idle()
      const stale = read()
      await login()
      // The login made a new session; the one it replaces would linger as a device.
      if (stale) await post(paths.logout, undefined, stale.token, 0).catch(() => undefined)
      return attempt()
    }
  }

  async function phone(code: string | { response: string; sign: string }) {
    const body = typeof code === 'string' ? { code } : { response: code.response, sign: code.sign }
    return (await postData<{ phone: WxaPhone }>(paths.phone, body)).phone
  }

  async function profile() {
    return (await request<{ profile: WxaProfile }>({ url: paths.profile })).data.profile
  }

  async function setProfile({ avatarPath, nickname }: WxaProfileChange) {
    if (avatarPath === undefined && nickname === undefined) {
      throw new TypeError('setProfile: give avatarPath, nickname or both')
    }
    // wx.uploadFile sends POST only: the server takes POST as PUT.
    const res = avatarPath
      ? await uploadFile<{ profile: WxaProfile }>({
          url: paths.profile,
          filePath: avatarPath,
          name: 'avatar',
          ...(nickname === undefined ? {} : { formData: { nickname } }),
        })
      : await request<{ profile: WxaProfile }>({
          url: paths.profile,
          method: 'PUT',
          data: { nickname },
        })
    return res.data.profile
  }

  async function logout(): Promise<void> {
    // A login or refresh still running would store its session after this logout.
    await idle()
    const token = forget()
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

  return {
    request,
    uploadFile,
    downloadFile,
    decrypt,
    phone,
    profile,
    setProfile,
    login,
    logout,
    session,
    exportAccount: async () =>
      (await request<WxaAccountExport>({ url: '/auth/account/export' })).data,
    // Encoded again: a scene is never a path of its own.
    confirmScan: (ticket, answer = 'confirm') =>
      postData(`/auth/scan/${encodeURIComponent(decodeURIComponent(ticket))}/${answer}`, {}),
  }
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
