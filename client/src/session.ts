// The token lifecycle: the session in storage, the refresh-after deadline,
// one login or refresh at a time, logins held to `loginCooldown` and to
// Retry-After, and the answer to a 401. client.ts makes the network calls
// (`post`) and the requests.
import type { RequestData, WxaAdapter } from './adapters'
import { type Answer, errorFrom, retryAfter, serverCode } from './answers'
import { WxaClientError } from './errors'
import type { WxaPaths, WxaSession } from './options'

/** Immediate retries of a refresh whose answer was lost: well inside the server's grace (30 s). */
const LOST_ANSWER_RETRIES = 2

/** What the token lifecycle needs of createClient's options, defaults applied. */
export interface TokenSettings {
  adapter: WxaAdapter
  appId: string | undefined
  storageKey: string
  refreshAfter: number
  loginCooldown: number
  maxRetryWait: number
  paths: WxaPaths
  now: () => number
}

/** A POST through the client's queue; `tries`: retries on 429/503 with Retry-After, default `retries`. */
export type Post = (
  path: string,
  data?: RequestData,
  token?: string,
  tries?: number,
) => Promise<Answer>

/** The session of one client: its token got, kept, refreshed and recovered after a 401. */
export function tokens<User>(settings: TokenSettings, post: Post) {
  const { adapter, appId, storageKey, refreshAfter, loginCooldown, maxRetryWait, paths, now } =
    settings

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
    const fresh = sessionFrom<User>(res, sentAt, path)
    adapter.setStorage(storageKey, fresh)
    return fresh
  }

  /** Removes the stored session; its token, if there was one. */
  function forget(): string | undefined {
    const token = read()?.token
    adapter.removeStorage(storageKey)
    return token
  }

  /** Resolves once no login or refresh is running (whatever its outcome). */
  const idle = () => running?.catch(() => undefined)

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
      const got = await Promise.resolve()
        .then(() => adapter.login())
        .catch((cause: unknown) => {
          // An adapter's own verdict (the browser's LOGIN_REQUIRED) stays as it is.
          if (cause instanceof WxaClientError) throw cause
          const errMsg = (cause as { errMsg?: string } | null)?.errMsg
          throw new WxaClientError('WX_LOGIN_FAILED', `wx.login failed: ${errMsg ?? cause}`, {
            cause,
          })
        })
      const sentAt = now()
      // Douyin's runtime gives an anonymousCode beside the code; the server takes both.
      const codes = typeof got === 'string' ? { code: got } : got
      // Not retried: the platform may have spent the code already.
      const res = await post(paths.login, { ...codes, ...(appId ? { appId } : {}) }, undefined, 0)
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
   * POST /auth/refresh with `refreshToken` in the body (never the access
   * token). An answer lost (no answer, a network error, a 5xx) is asked for
   * again at once, `LOST_ANSWER_RETRIES` times, with the same refresh token:
   * inside the server's grace, that retry gets the answer the lost one had;
   * later, the server would take the replaced token for a stolen one.
   */
  async function sendRefresh(refreshToken: string): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await post(paths.refresh, { refreshToken })
        if (res.statusCode < 500 || attempt >= LOST_ANSWER_RETRIES) return res
      } catch (error) {
        if (attempt >= LOST_ANSWER_RETRIES) throw error
      }
    }
  }

  /**
   * New tokens for `current`: POST /auth/refresh with its refresh token, or a
   * login when the server says the session is gone (or `current` has no
   * refresh token: stored by SDK 0.3). When `keepOnFailure`, a refresh that
   * fails otherwise (offline, 5xx) leaves `current` in use.
   */
  async function refresh(
    current: WxaSession<User>,
    keepOnFailure: boolean,
    rejected?: WxaClientError,
  ): Promise<WxaSession<User>> {
    lastRefresh = now()
    const sentAt = now()
    if (!current.refreshToken) {
      mayLogIn(rejected)
      return logIn()
    }
    let res: Answer
    try {
      res = await sendRefresh(current.refreshToken)
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

  /**
   * `send`'s answer with a ready token; a 401 is answered with one refresh
   * (or login) and one more `send`, and a 401 after that is LOGIN_REJECTED.
   */
  async function authed(path: string, send: (token: string) => Promise<Answer>) {
    let current = await ready()
    let res = await send(current.token)
    if (res.statusCode === 401) {
      current = await recover(current, rejectedBy(res, path))
      res = await send(current.token)
      if (res.statusCode === 401) throw rejectedBy(res, path)
    }
    return res
  }

  return { read, session, forget, idle, login, ready, authed }
}

/**
 * The session a login or refresh answer (`res`, sent at `sentAt`) holds, as
 * kept in storage; BAD_RESPONSE without a token, a refreshToken and expiresIn.
 */
export function sessionFrom<User>(res: Answer, sentAt: number, path: string): WxaSession<User> {
  const { token, refreshToken, expiresAt, expiresIn, user } = (res.data ?? {}) as Partial<
    WxaSession<User>
  >
  if (
    typeof token !== 'string' ||
    !token ||
    typeof refreshToken !== 'string' ||
    !refreshToken ||
    typeof expiresIn !== 'number'
  ) {
    throw new WxaClientError(
      'BAD_RESPONSE',
      `${path} answered without a token, a refreshToken and expiresIn`,
      { status: res.statusCode },
    )
  }
  return {
    token,
    refreshToken,
    expiresAt: String(expiresAt),
    expiresIn,
    receivedAt: sentAt,
    user,
  } as WxaSession<User>
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
