// Each push is acted on once, even when WeChat's deliveries overlap (M-5):
// the event is claimed before it is acted on, a delivery that finds it
// claimed answers 503 EVENT_IN_PROGRESS (WeChat retries it), and a
// run that throws lets it go, so that the retry acts on it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { BuiltPush } from '../src/emulator/push'
import type { AuthorizationEvent } from '../src/platforms/wechat/events'
import {
  call,
  expectError,
  type Fetcher,
  login,
  newOpenid,
  served,
  testApp,
  testEnv,
} from './helpers'
import { pushFor, send } from './pushes'

/** Deliveries of one cancellation of `openid`: the same event, each under a query of its own. */
async function deliveries(openid: string, n: number): Promise<BuiltPush[]> {
  const createTime = Math.floor(Date.now() / 1000)
  return Promise.all(
    Array.from({ length: n }, () =>
      pushFor({ openid, event: 'user_authorization_cancellation', mode: 'safe', createTime }),
    ),
  )
}

/** A gate a hook waits at until the test opens it. */
function gate() {
  let open = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  let entered = () => {}
  const reached = new Promise<void>((resolve) => {
    entered = resolve
  })
  return { open, opened, entered, reached }
}

function appWithHook(hook: (event: AuthorizationEvent) => Promise<void> | void): Fetcher {
  return served(testApp({ onAccountCancelled: hook }), testEnv)
}

beforeEach(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => {})
  vi.spyOn(console, 'error').mockImplementation(() => {})
})
afterEach(() => vi.restoreAllMocks())

describe('each push is acted on once (M-5)', () => {
  it('4 simultaneous deliveries of one cancellation run onAccountCancelled once', async () => {
    let runs = 0
    const app = appWithHook(async () => {
      runs++
      await new Promise((resolve) => setTimeout(resolve, 300))
    })
    const user = await login(newOpenid('once'), app)
    const pushes = await deliveries(user.openid, 4)
    const answers = await Promise.all(pushes.map((push) => send(app, push)))
    expect(runs).toBe(1)
    expect(answers.filter((a) => a.text === 'success')).toHaveLength(1)
    for (const answer of answers.filter((a) => a.text !== 'success')) {
      expectError(answer, 503, 'EVENT_IN_PROGRESS')
    }
    // WeChat's later retries find it done.
    for (const push of pushes) expect((await send(app, push)).text).toBe('success')
    expect(runs).toBe(1)
    expect((await call('GET', '/me', { token: user.token }, app)).status).toBe(401)
  })

  it('a retry during a slow hook does not run it again; after it, the retry is success', async () => {
    const slow = gate()
    let runs = 0
    const app = appWithHook(async () => {
      runs++
      slow.entered()
      await slow.opened
      await new Promise((resolve) => setTimeout(resolve, 300))
    })
    const user = await login(newOpenid('once'), app)
    const [first, retry] = (await deliveries(user.openid, 2)) as [BuiltPush, BuiltPush]
    const running = send(app, first)
    await slow.reached
    expectError(await send(app, retry), 503, 'EVENT_IN_PROGRESS')
    expectError(await send(app, first), 503, 'EVENT_IN_PROGRESS') // the same request again
    slow.open()
    expect((await running).text).toBe('success')
    expect((await send(app, retry)).text).toBe('success')
    expect(runs).toBe(1)
  })

  it('a hook that throws lets the retry run it', async () => {
    let runs = 0
    const app = appWithHook(() => {
      runs++
      if (runs === 1) throw new Error('the host database is down')
    })
    const user = await login(newOpenid('once'), app)
    const [first, retry] = (await deliveries(user.openid, 2)) as [BuiltPush, BuiltPush]
    expect((await send(app, first)).status).toBeGreaterThanOrEqual(500)
    // Nothing forgotten yet: the session still works until the run is done.
    expect((await send(app, retry)).text).toBe('success')
    expect(runs).toBe(2)
    expect((await send(app, first)).text).toBe('success')
    expect(runs).toBe(2)
  })

  it('4 simultaneous deliveries of one risky image verdict act on it once', async () => {
    const app = appWithHook(() => {})
    const { token } = await login(newOpenid('once'), app)
    const form = new FormData()
    const png = Uint8Array.from(
      atob(
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
      ),
      (ch) => ch.charCodeAt(0),
    )
    form.append('avatar', new Blob([png]), 'a.png')
    const set = await app.fetch('http://wxa.test/auth/profile', {
      method: 'POST',
      headers: { Authorization: `JWT ${token}` },
      body: form,
    })
    const { profile } = (await set.json()) as { profile: { avatarUrl: string } }
    const key = profile.avatarUrl.split('/').pop() as string
    const pending = await call<{ checks: { trace: string; mediaUrl: string }[] }>(
      'GET',
      '/__emulator/media-checks',
    )
    const check = pending.body.checks.find((c) => c.mediaUrl.endsWith(`/${key}`))
    expect(check).toBeDefined()
    // WeChat's verdict on it (the emulator calls bytes with "risky" in them risky).
    const judged = await call<{ suggest: string; push: BuiltPush }>(
      'POST',
      `/__emulator/media-checks/${check?.trace}`,
      { json: { bytes: btoa('risky') } },
    )
    expect(judged.body.suggest).toBe('risky')
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const answers = await Promise.all(Array.from({ length: 4 }, () => send(app, judged.body.push)))
    for (const answer of answers.filter((a) => a.text !== 'success')) {
      expectError(answer, 503, 'EVENT_IN_PROGRESS')
    }
    const acted = warn.mock.calls.filter(([line]) => String(line).includes('checked risky'))
    expect(acted).toHaveLength(1)
    expect((await send(app, judged.body.push)).text).toBe('success')
    const after = await call<{ profile: { avatarUrl: string | null } }>(
      'GET',
      '/auth/profile',
      { token },
      app,
    )
    expect(after.body.profile.avatarUrl).toBeNull()
  })
})
