import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { inject } from 'vitest'
import { recordAnswer } from './global-setup'

/** WeChat lets a mini program have this many network calls in flight. */
export const RUNTIME_MAX_IN_FLIGHT = 10

/** A network call the device made, with the status it got (0: no answer). */
export interface SentCall {
  kind: 'request' | 'upload' | 'download'
  method: string
  path: string
  status: number
  authorization: string | null
  /** A request's body as sent (JSON text), if it had one. */
  body?: string
}

export interface HttpAnswer {
  statusCode: number
  data: unknown
  header: Record<string, string>
}

/**
 * The phone under a stand-in: real HTTP with fetch to the running Worker,
 * `wx.login` codes for `openid` in mini program `appId` (default: the
 * first) from the emulator (`POST /__emulator/code`, as WeChat's runtime
 * gets them from WeChat), storage as an in-memory Map of copies (the
 * real one serializes), temp files on disk. It refuses a call past
 * {@link RUNTIME_MAX_IN_FLIGHT} in flight instead of queueing it, so a test
 * sees when the SDK exceeds the limit; `offline` makes every call fail as
 * with no network. The stand-ins give it each framework's call shapes.
 */
export function device(baseUrl: string, openid = `sdk-${randomUUID()}`, appId?: string) {
  const state = {
    openid,
    /** How many times the runtime's login ran. */
    logins: 0,
    sent: [] as SentCall[],
    storage: new Map<string, unknown>(),
    inFlight: 0,
    maxInFlight: 0,
    offline: false,
  }

  async function network<T>(
    kind: SentCall['kind'],
    method: string,
    url: string,
    header: Record<string, string>,
    run: () => Promise<T & { statusCode: number }>,
    body?: string,
  ): Promise<T & { statusCode: number }> {
    const entry: SentCall = {
      kind,
      method,
      path: new URL(url).pathname + new URL(url).search,
      status: 0,
      authorization: new Headers(header).get('authorization'),
      ...(body === undefined ? {} : { body }),
    }
    if (state.inFlight >= RUNTIME_MAX_IN_FLIGHT) {
      state.sent.push(entry)
      throw new Error(`more than ${RUNTIME_MAX_IN_FLIGHT} network calls in flight`)
    }
    state.inFlight++
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight)
    try {
      if (state.offline) throw new Error('offline')
      const answer = await run()
      entry.status = answer.statusCode
      const data = (answer as { data?: unknown }).data
      if (answer.statusCode >= 200 && answer.statusCode < 300 && typeof data === 'object') {
        const { pathname } = new URL(url)
        recordAnswer(inject('answersFile'), {
          method,
          path: pathname,
          status: answer.statusCode,
          body: data,
        })
      }
      return answer
    } finally {
      state.inFlight--
      state.sent.push(entry)
    }
  }

  /** The runtime's login with what else the platform gives (Douyin: an anonymousCode). */
  async function loginCodes(): Promise<{ code: string; anonymousCode?: string }> {
    state.logins++
    return emulatorCodes(baseUrl, openid, appId)
  }

  const answerOf = async (res: Response): Promise<HttpAnswer> => {
    const text = await res.text()
    let data: unknown = text
    try {
      data = JSON.parse(text)
    } catch {}
    return { statusCode: res.status, data, header: Object.fromEntries(res.headers) }
  }

  return {
    state,
    /** `wx.request`: JSON in and out; GET data becomes the query. */
    request(url: string, method: string, data: unknown, header: Record<string, string>) {
      if (method === 'GET' && data && typeof data === 'object') {
        url += `?${new URLSearchParams(data as Record<string, string>)}`
      }
      const body =
        method === 'GET' || data === undefined
          ? undefined
          : typeof data === 'string'
            ? data
            : JSON.stringify(data)
      return network(
        'request',
        method,
        url,
        header,
        async () =>
          answerOf(
            await fetch(url, {
              method,
              headers: { 'content-type': 'application/json', ...header },
              ...(body === undefined ? {} : { body }),
            }),
          ),
        body,
      )
    },
    /** `wx.uploadFile`: multipart POST of a file on disk; the answer's body is text. */
    upload(
      url: string,
      filePath: string,
      name: string,
      formData: Record<string, string> | undefined,
      header: Record<string, string>,
    ) {
      return network('upload', 'POST', url, header, async () => {
        const form = new FormData()
        for (const [key, value] of Object.entries(formData ?? {})) form.append(key, value)
        form.append(name, new Blob([await readFile(filePath)]), basename(filePath))
        const res = await fetch(url, { method: 'POST', headers: header, body: form })
        return { statusCode: res.status, data: await res.text() }
      })
    },
    /** `wx.downloadFile`: the body, whatever the status, goes to a temp file. */
    download(url: string, header: Record<string, string>) {
      return network('download', 'GET', url, header, async () => {
        const res = await fetch(url, { headers: header })
        const tempFilePath = join(await mkdtemp(join(tmpdir(), 'wxa-dl-')), 'file')
        await writeFile(tempFilePath, new Uint8Array(await res.arrayBuffer()))
        return { statusCode: res.status, tempFilePath }
      })
    },
    /** The runtime's login: a fresh code for this device's user. */
    login: async (): Promise<string> => (await loginCodes()).code,
    loginCodes,
    /** `getStorageSync` answers '' for a missing key, as WeChat's does. */
    getStorage: (key: string) =>
      state.storage.has(key) ? structuredClone(state.storage.get(key)) : '',
    setStorage: (key: string, value: unknown) =>
      void state.storage.set(key, structuredClone(value)),
    removeStorage: (key: string) => void state.storage.delete(key),
  }
}

export type Device = ReturnType<typeof device>

/** A fresh single-use code for `openid` (and Douyin's anonymousCode) from the emulator's control endpoint. */
export async function emulatorCodes(
  baseUrl: string,
  openid: string,
  appId?: string,
): Promise<{ code: string; anonymousCode?: string }> {
  const res = await fetch(`${baseUrl}/__emulator/code`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ openid, appId }),
  })
  if (!res.ok) throw new Error(`emulator: HTTP ${res.status}`)
  return (await res.json()) as { code: string; anonymousCode?: string }
}

/** A fresh single-use code for `openid` from the emulator's control endpoint. */
export async function emulatorCode(baseUrl: string, openid: string, appId?: string) {
  return (await emulatorCodes(baseUrl, openid, appId)).code
}

/** POSTs JSON to the emulator's control surface. */
export async function emulator<T = unknown>(baseUrl: string, path: string, body: unknown) {
  const res = await fetch(`${baseUrl}/__emulator/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`emulator ${path}: HTTP ${res.status}`)
  return (await res.json()) as T
}

/** Ends a session on the server with its token, as another device's logout would. */
export async function endSession(baseUrl: string, token: string): Promise<void> {
  const res = await fetch(`${baseUrl}/auth/logout`, {
    method: 'POST',
    headers: { authorization: `JWT ${token}` },
  })
  if (!res.ok) throw new Error(`logout: HTTP ${res.status}`)
}

/**
 * A clock for the SDK's `now` and `sleep` options: time moves only when a
 * test advances it or the SDK sleeps, and every sleep is recorded.
 */
export function testClock(start = Date.now()) {
  const clock = {
    time: start,
    slept: [] as number[],
    now: () => clock.time,
    sleep: async (ms: number) => {
      clock.slept.push(ms)
      clock.time += ms
    },
    advance: (ms: number) => {
      clock.time += ms
    },
  }
  return clock
}
