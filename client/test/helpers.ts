import { expect, inject } from 'vitest'
import {
  createClient,
  DEFAULT_STORAGE_KEY,
  type WxaAdapter,
  WxaClientError,
  type WxaClientOptions,
  type WxaSession,
} from '../src'
import { device, testClock } from './device'
import { wxStandIn } from './stand-ins'

export const baseUrl = inject('baseUrl')
export const DEAD_URL = 'http://127.0.0.1:9' // discard port: nothing listens

export interface Me {
  user: { id: string; openid: string }
  session: Record<string, unknown>
}

/**
 * A mini program of its own: a fresh test user, an empty storage, the `wx`
 * stand-in, a test clock, and the SDK over them.
 */
export function miniProgram(
  options: Omit<Partial<WxaClientOptions>, 'adapter'> & {
    /** The runtime over the test device; default the `wx` stand-in. */
    adapter?: (phone: ReturnType<typeof device>) => WxaAdapter
  } = {},
) {
  const phone = device(baseUrl, undefined, options.appId)
  const clock = testClock()
  const wx = wxStandIn(phone)
  const { adapter, ...rest } = options
  const settings: WxaClientOptions = {
    baseUrl,
    ...(adapter ? { adapter: adapter(phone) } : { wx }),
    now: clock.now,
    sleep: clock.sleep,
    ...rest,
  }
  const api = createClient(settings)
  return {
    phone,
    openid: phone.state.openid,
    clock,
    wx,
    api,
    settings,
    /** Another SDK on the same phone, e.g. after a restart. */
    again: (more: Partial<WxaClientOptions> = {}) => createClient({ ...settings, ...more }),
    stored: () => phone.state.storage.get(DEFAULT_STORAGE_KEY) as WxaSession | undefined,
    /** `METHOD /path status` of every network call, in the order they ended. */
    trail: () => phone.state.sent.map(({ method, path, status }) => `${method} ${path} ${status}`),
    /** How many calls went to `path` (answered or not). */
    calls: (path: string) => phone.state.sent.filter((s) => s.path === path).length,
  }
}

export async function rejection(promise: Promise<unknown>): Promise<WxaClientError> {
  const error = await promise.then(
    () => expect.unreachable('resolved'),
    (error: unknown) => error,
  )
  expect(error).toBeInstanceOf(WxaClientError)
  return error as WxaClientError
}
