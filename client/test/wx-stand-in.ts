import type { WxApi, WxRequestResult } from '../src'

/** A request the stand-in sent, with the status it got. */
export interface SentRequest {
  method: string
  path: string
  status: number
  authorization: string | null
}

export interface WxStandIn extends WxApi {
  /** How many times `wx.login` ran. */
  logins: number
  /** Every `wx.request`, in the order the answers came. */
  sent: SentRequest[]
  storage: Map<string, unknown>
}

/**
 * A stand-in for the WeChat client runtime, and only for it: `wx.request`
 * does real HTTP with fetch, `wx.login` gets a fresh code for `openid` from
 * the emulator (`POST /__emulator/code`), as WeChat's runtime gets one from
 * WeChat, and storage is an in-memory Map holding copies, as the real one
 * serializes.
 */
export function wxStandIn(baseUrl: string, openid: string): WxStandIn {
  const storage = new Map<string, unknown>()
  const sent: SentRequest[] = []
  const wx: WxStandIn = {
    logins: 0,
    sent,
    storage,
    request({ url, method = 'GET', data, header = {}, success, fail }) {
      const headers = new Headers({ 'content-type': 'application/json', ...header })
      if (method === 'GET' && data && typeof data === 'object' && !(data instanceof ArrayBuffer)) {
        url += `?${new URLSearchParams(data as Record<string, string>)}`
      }
      const body =
        method === 'GET' || data === undefined
          ? undefined
          : typeof data === 'string'
            ? data
            : JSON.stringify(data)
      fetch(url, { method, headers, ...(body === undefined ? {} : { body }) }).then(
        async (res) => {
          const text = await res.text()
          let parsed: unknown = text
          try {
            parsed = JSON.parse(text)
          } catch {}
          sent.push({
            method,
            path: new URL(url).pathname,
            status: res.status,
            authorization: headers.get('authorization'),
          })
          success?.({
            statusCode: res.status,
            data: parsed as WxRequestResult['data'],
            header: Object.fromEntries(res.headers),
          })
        },
        (error: unknown) => fail?.({ errMsg: `request:fail ${String(error)}` }),
      )
    },
    login({ success, fail }) {
      wx.logins++
      emulatorCode(baseUrl, openid).then(
        (code) => success?.({ code }),
        (error: unknown) => fail?.({ errMsg: `login:fail ${String(error)}` }),
      )
    },
    getStorageSync: (key) => (storage.has(key) ? structuredClone(storage.get(key)) : ''),
    setStorageSync: (key, value) => void storage.set(key, structuredClone(value)),
    removeStorageSync: (key) => void storage.delete(key),
  }
  return wx
}

/** A fresh single-use code for `openid` from the emulator's control endpoint. */
export async function emulatorCode(baseUrl: string, openid: string): Promise<string> {
  const res = await fetch(`${baseUrl}/__emulator/code`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ openid }),
  })
  if (!res.ok) throw new Error(`emulator: HTTP ${res.status}`)
  return ((await res.json()) as { code: string }).code
}

/** Ends a session on the server with its token, as another device's logout would. */
export async function endSession(baseUrl: string, token: string): Promise<void> {
  const res = await fetch(`${baseUrl}/auth/logout`, {
    method: 'POST',
    headers: { authorization: `JWT ${token}` },
  })
  if (!res.ok) throw new Error(`logout: HTTP ${res.status}`)
}
