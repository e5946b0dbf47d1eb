import { runInDurableObject } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import type { Context } from 'hono'
import { expect, vi } from 'vitest'
import { createApp } from '../src/app'
import type { WxaConfig } from '../src/config'
import { emulatorStub } from '../src/emulator/stub'
import { emulatorUpstream } from '../src/emulator/upstream'
import type { WxaBindings } from '../src/env'
import { WxaAuthError } from '../src/errors'
import type { DefaultUser } from '../src/hooks'
import type { WxaEnv } from '../src/middleware/session'
import type { WxaAuthOptions } from '../src/options'
import { workersKv } from '../src/runtime/cloudflare/kv'
import { cloudflare } from '../src/runtime/cloudflare/runtime'
import { identityStore } from '../src/session/identities'
import { hashSessionId } from '../src/session/ids'
import { createCipher } from '../src/storage/cipher'
import { sessionRecordKey } from '../src/storage/keys'
import { sealedKv } from '../src/storage/sealed-kv'
import { wxaAuth } from '../src/wxa-auth'
import { countingKv } from './counting-kv'

export { countingKv }

export const testEnv = env as unknown as WxaBindings & {
  JWT_SECRET: string
  WECHAT_EMULATOR: DurableObjectNamespace
}

export type Fetcher = { fetch: (input: string, init?: RequestInit) => Promise<Response> }
/** The deployable Worker, as a client reaches it. */
export const worker = (exports as unknown as { default: Fetcher }).default

/** A Hono app other than the Worker, run with the test env (or `env`). */
export const served = (
  app: {
    request: (input: string, init: RequestInit, env: WxaBindings) => Response | Promise<Response>
  },
  env: WxaBindings = testEnv,
): Fetcher => ({ fetch: async (input, init = {}) => app.request(input, init, env) })

/** Options of a test's app: any user model. */
type TestOptions = Partial<WxaAuthOptions<any, any>>

/** The app as the dev Worker makes it: Workers runtime, the emulators as upstream. */
export const testApp = (options: TestOptions = {}) =>
  createApp({ runtime: cloudflare(), upstream: emulatorUpstream(), ...options })

/** The app as its own isolate (its own caches), with `vars` on top of the test env. */
export const appWith = (vars: Partial<WxaBindings> = {}, options: TestOptions = {}) =>
  served(testApp(options), { ...testEnv, ...vars } as WxaBindings)

/** wxa-auth's factory as the dev Worker uses it, for a host app of a test's own. */
export const testAuth = (options: Partial<WxaAuthOptions<DefaultUser, WxaEnv>> = {}) =>
  wxaAuth<DefaultUser, WxaEnv>({
    runtime: cloudflare() as never,
    upstream: emulatorUpstream(),
    ...options,
  })

const probe = testAuth()

/** The configuration wxa-auth builds from `env` (as the dev Worker would), once per env object. */
export const configFromEnv = (env: WxaBindings): WxaConfig =>
  probe.config({ env } as unknown as Context)

const AUTHORITY_METHODS = new Set([
  'login',
  'read',
  'write',
  'refresh',
  'end',
  'endAll',
  'forget',
  'list',
  'sessionKey',
  'setSessionKey',
])

/**
 * The env with the KV calls of the Worker itself counted (see {@link countingKv})
 * and the calls to the session objects counted in `objects`. The session
 * objects' own KV writes (the replica) are not in `counts`.
 */
export function countedEnv() {
  const { kv, counts } = countingKv(testEnv.SESSIONS)
  const objects = { calls: 0 }
  const namespace = testEnv.USER_SESSIONS
  const sessions = new Proxy(namespace, {
    get(target, prop) {
      if (prop === 'get') {
        return (id: DurableObjectId) => {
          const stub = target.get(id) as unknown as Record<string, (...args: unknown[]) => unknown>
          return new Proxy(stub, {
            get(object, method) {
              const call = object[method as string]
              if (typeof method !== 'string' || !AUTHORITY_METHODS.has(method)) return call
              return (...args: unknown[]) => {
                objects.calls++
                return Reflect.apply(call as (...a: unknown[]) => unknown, object, args)
              }
            },
          })
        }
      }
      const value = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  // No isolate cache: each read shows in the counts.
  const env = {
    ...testEnv,
    SESSIONS: kv,
    USER_SESSIONS: sessions,
    SESSION_CACHE_SECONDS: '0',
  } as WxaBindings
  return { env, counts, objects }
}

/** Decodes a JWT's header and payload without verifying it. */
export function decodeJwt(token: string) {
  const [header, payload] = token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(atob((part ?? '').replace(/-/g, '+').replace(/_/g, '/'))))
  return { header, payload }
}

export interface Reply<T = any> {
  status: number
  headers: Headers
  body: T
  text: string
}

/** Sends a request to the deployable Worker (or `app`) the way a client does. */
export async function call<T = any>(
  method: string,
  path: string,
  options: { json?: unknown; body?: string; token?: string; headers?: Record<string, string> } = {},
  app: Fetcher = worker,
): Promise<Reply<T>> {
  const headers = new Headers(options.headers)
  // Every test client has its own address, as real ones do, for the login rate limit.
  if (!headers.has('CF-Connecting-IP')) headers.set('CF-Connecting-IP', randomAddress())
  if (options.token) headers.set('Authorization', `JWT ${options.token}`)
  let body = options.body
  if (options.json !== undefined) {
    body = JSON.stringify(options.json)
    headers.set('Content-Type', 'application/json')
  }
  const res = await app.fetch(`http://wxa.test${path}`, { method, headers, body })
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text }
}

/** A documentation-range IPv6 address (RFC 3849) in a /64 of its own, random per call. */
export const randomAddress = () =>
  `2001:db8:${Array.from(crypto.getRandomValues(new Uint16Array(2)), (n) => n.toString(16)).join(':')}::1`

/** A fresh test user's openid, unique per call so test files never share state. */
export const newOpenid = (tag = 'u') => `${tag}-${crypto.randomUUID().slice(0, 13)}`

/** A fresh single-use code for `openid` from the emulator's control surface. */
export async function codeFor(
  openid: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await call<{ code: string }>('POST', '/__emulator/code', {
    json: { openid, ...extra },
  })
  expect(res.status).toBe(200)
  return res.body.code
}

/** Changes an emulated user (block, fault, unionid). */
export async function emulate(openid: string, change: Record<string, unknown>) {
  const res = await call('POST', `/__emulator/users/${openid}`, { json: change })
  expect(res.status).toBe(200)
  return res.body
}

/** Logs `openid` in through `POST /auth/login` and returns the reply body. */
export async function login(openid = newOpenid(), app?: Fetcher) {
  const code = await codeFor(openid)
  const res = await call<Tokens & { tokenType: string; user: any }>(
    'POST',
    '/auth/login',
    { json: { code } },
    app,
  )
  expect(res.status, res.text).toBe(200)
  return { openid, ...res.body }
}

/** What a login or a refresh answers about the tokens. */
export interface Tokens {
  token: string
  refreshToken: string
  expiresAt: string
  expiresIn: number
  refreshExpiresAt: string
}

/** `POST /auth/refresh` as a 0.4 client sends it: the refresh token in the body, nothing else. */
export const refreshWith = (refreshToken: unknown, app?: Fetcher) =>
  call<Tokens & { user: any }>('POST', '/auth/refresh', { json: { refreshToken } }, app)

/** The cipher of KV records under the test STORAGE_SECRET. */
export const testCipher = () => createCipher(testEnv.STORAGE_SECRET as string)

/** The identity records, read straight from the test KV. */
export const testIdentities = () =>
  identityStore(sealedKv(workersKv(testEnv.SESSIONS), testCipher()))

/** A sealed KV record, opened and parsed; null when absent or not ours. */
export async function openKv<T = any>(key: string): Promise<T | null> {
  const sealed = await testEnv.SESSIONS.get(key)
  const opened = sealed === null ? null : await testCipher().open(sealed, key)
  return opened === null ? null : (JSON.parse(opened) as T)
}

/** The KV key of the session a token names: `session:<uid>:<sha256(sid)>`. */
export async function recordKeyOf(token: string) {
  const { sub, sid } = decodeJwt(token).payload as { sub: string; sid: string }
  return sessionRecordKey(sub, await hashSessionId(sid))
}

/**
 * Reads the session of `token` once at the edge, from an isolate that has not
 * seen it (or `app`): a login writes no KV copy, so the read misses KV and asks
 * the session object, which writes the copy after answering. Resolves once KV
 * has it; the session's KV key.
 */
export async function readAtEdge(token: string, app: Fetcher = appWith()) {
  const res = await call('GET', '/me', { token }, app)
  expect(res.status, res.text).toBe(200)
  const key = await recordKeyOf(token)
  await vi.waitFor(async () => expect(await testEnv.SESSIONS.get(key)).not.toBeNull())
  return key
}

/** Every KV key under `prefix`, with its expiration. */
export async function kvKeys(prefix: string) {
  const keys: { name: string; expiration?: number }[] = []
  let cursor: string | undefined
  do {
    const page = await testEnv.SESSIONS.list({ prefix, ...(cursor ? { cursor } : {}) })
    keys.push(...page.keys)
    cursor = page.list_complete ? undefined : page.cursor
  } while (cursor)
  return keys
}

export function expectError(res: Reply, status: number, code: string) {
  expect(res.status, res.text).toBe(status)
  const { alias, ...error } = res.body?.error ?? {}
  expect({ error }).toEqual({ error: { code, message: expect.any(String) } })
  if (alias !== undefined) expect(alias).toMatch(/^WECHAT_/)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
}

/** What the mini program receives for `data` (wx.getUserInfo and friends), from the emulator. */
export async function userData(
  openid: string,
  data: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const res = await call<{ encryptedData: string; iv: string; rawData: string; signature: string }>(
    'POST',
    '/__emulator/user-data',
    { json: { openid, data, ...extra } },
  )
  expect(res.status, res.text).toBe(200)
  return res.body
}

/** A single-use phone-number button code for `openid`, from the emulator. */
export async function phoneCode(openid: string, phoneNumber: string, extra = {}) {
  const res = await call<{ code: string }>('POST', '/__emulator/phone-code', {
    json: { openid, phoneNumber, ...extra },
  })
  expect(res.status, res.text).toBe(200)
  return res.body.code
}

/** How many times the emulator answered `/cgi-bin/stable_token`. */
export async function stableTokenCalls(change?: Record<string, unknown>): Promise<number> {
  const res = change
    ? await call('POST', '/__emulator/access-token', { json: change })
    : await call('GET', '/__emulator/access-token')
  expect(res.status, res.text).toBe(200)
  return res.body.stableTokenCalls
}

/** The session_key the emulator holds for `openid`: tests only, never on the control surface. */
export async function emulatedSessionKey(openid: string): Promise<string> {
  return runInDurableObject(emulatorStub(testEnv), async (_instance, state) => {
    const user = await state.storage.get<{ sessionKey: string }>(`user:${openid}`)
    return user?.sessionKey ?? ''
  })
}

/** A signing secret that passes the secret checks: 32 characters, 32 distinct. */
export const PRODUCTION_SECRET = 'Vq3xT9mR2kLp8sWz4nYb7cHf1dJg6aEu'

/** The production environment: no emulator, real bindings only, with `vars` on top. */
export const production = (vars: Partial<WxaBindings> = {}): WxaBindings => ({
  SESSIONS: testEnv.SESSIONS,
  USER_SESSIONS: testEnv.USER_SESSIONS,
  WECHAT_APP_ID: 'wx0123456789abcdef',
  WECHAT_APP_SECRET: '3f9c2a7e5b1d4c8f0a6e2d9b7c5a1f34', // WeChat's shape: 32 hex characters
  JWT_SECRET: PRODUCTION_SECRET,
  STORAGE_SECRET: `${PRODUCTION_SECRET}-storage`,
  ...vars,
})

/** The message of the CONFIG_INVALID that `env` makes the configuration throw. */
export function configError(env: WxaBindings): string {
  try {
    configFromEnv(env)
  } catch (err) {
    if (err instanceof WxaAuthError && err.code === 'CONFIG_INVALID') return err.message
    throw err
  }
  throw new Error('expected CONFIG_INVALID')
}
