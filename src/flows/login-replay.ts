import { WxaAuthError } from '../errors'
import { hex } from '../util/hex'
import type { FlowContext } from './context'

const encoder = new TextEncoder()
const PENDING = 'pending:'
const DONE = 'done:'
const WAIT_MS = 250
const WAITS = 12 // ~3 s for the first request's exchange to finish

/**
 * A login whose code may arrive twice (an OAuth redirect delivered twice):
 * the first request claims a hash of (app, code) and runs the login; the
 * answer is sealed (STORAGE_SECRET) and kept with the claim for `window`
 * seconds, and the same code posted again in that time gets it back, the
 * same tokens of the same session. A failed login frees the claim. The code
 * itself is never stored.
 */
export async function oncePerCode<User extends { id: string }, T>(
  { config, now, log }: FlowContext<User>,
  { appId, code, window }: { appId: string; code: string; window: number },
  run: () => Promise<T>,
): Promise<T> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(`${appId}\n${code}`))
  const id = hex(digest)
  const scope = `login-code:${appId}`
  const aad = `login-code:${appId}:${id}`
  const mine = `${PENDING}${crypto.randomUUID()}`
  for (let wait = 0; ; wait++) {
    const held = await config.claims.claim(scope, id, mine, window, now)
    if (held === null) break
    if (held.startsWith(DONE)) {
      const opened = await config.cipher.open(held.slice(DONE.length), aad)
      if (opened === null) throw new WxaAuthError('CODE_INVALID')
      return JSON.parse(opened) as T
    }
    if (wait >= WAITS) throw new WxaAuthError('LOGIN_IN_PROGRESS', undefined, { retryAfter: 1 })
    await new Promise((resolve) => setTimeout(resolve, WAIT_MS))
  }
  let answer: T
  try {
    answer = await run()
  } catch (err) {
    await config.claims.swap(scope, id, mine, null, window, now).catch(() => {})
    throw err
  }
  try {
    const sealed = await config.cipher.seal(JSON.stringify(answer), aad)
    await config.claims.swap(scope, id, mine, `${DONE}${sealed}`, window, now)
  } catch (err) {
    // The login stands; a second delivery of the code then fails at WeChat (CODE_INVALID).
    log.warn('login-code: the answer was not kept for a replay', err)
  }
  return answer
}
