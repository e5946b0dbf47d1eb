// An account deletion wins against a request in flight (M-2): a profile
// write is checked with the caller's session in the same step as the write,
// so an upload whose body was still arriving when the account was deleted
// writes nothing, and its avatar object is deleted.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { appWith, call, codeFor, login, newOpenid, testEnv } from './helpers'

/** A well-formed 1×1 PNG. */
const PNG = Uint8Array.from(
  atob(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  ),
  (ch) => ch.charCodeAt(0),
)

/**
 * A multipart upload (avatar and nickname) whose last bytes wait for
 * `finish()`; `reading` resolves once the server has started reading the body.
 */
function heldUpload() {
  const boundary = `----wxa${crypto.randomUUID().slice(0, 8)}`
  const encoder = new TextEncoder()
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="nickname"\r\n\r\nGhost\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="avatar"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
  )
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`)
  let finish = () => {}
  const finished = new Promise<void>((resolve) => {
    finish = resolve
  })
  let started = () => {}
  const reading = new Promise<void>((resolve) => {
    started = resolve
  })
  let step = 0
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (step === 0) {
        started()
        controller.enqueue(head)
        controller.enqueue(PNG)
      } else if (step === 1) {
        await finished
        controller.enqueue(tail)
      } else {
        controller.close()
      }
      step++
    },
  })
  return { body, boundary, reading, finish }
}

beforeEach(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => {})
})
afterEach(() => vi.restoreAllMocks())

describe('an account deletion wins against a profile upload in flight (M-2)', () => {
  it('the upload finishing after the deletion is 401; no profile, no avatar; the next login has none', async () => {
    const app = appWith()
    const bucket = testEnv.AVATARS as R2Bucket
    const objects = async () => (await bucket.list()).objects.map((o) => o.key).sort()
    const before = await objects()
    const openid = newOpenid('race')
    const { token } = await login(openid, app)
    const held = heldUpload()
    const upload = app.fetch('http://wxa.test/auth/profile', {
      method: 'POST',
      headers: {
        Authorization: `JWT ${token}`,
        'Content-Type': `multipart/form-data; boundary=${held.boundary}`,
      },
      body: held.body,
      // @ts-expect-error: a streamed request body (undici and workerd want it said)
      duplex: 'half',
    })
    await held.reading
    const deleted = await call(
      'DELETE',
      '/auth/account',
      { token, json: { code: await codeFor(openid) } },
      app,
    )
    expect(deleted.status, deleted.text).toBe(200)
    held.finish()
    const res = await upload
    const text = await res.text()
    expect(res.status, text).toBe(401)
    expect(JSON.parse(text).error.code).toBe('SESSION_EXPIRED')
    expect(await objects()).toEqual(before)
    const again = await login(openid, app)
    const profile = await call('GET', '/auth/profile', { token: again.token }, app)
    expect(profile.body).toEqual({ profile: { nickname: null, avatarUrl: null } })
  })
})

describe('nothing sent to a platform follows the request’s Host (M-3)', () => {
  it('a forged Host does not change the URL sent to media_check_async', async () => {
    for (const [app, base] of [
      [appWith(), 'http://wxa.test'],
      [appWith({ PUBLIC_URL: 'https://wxa.example' }), 'https://wxa.example'],
    ] as const) {
      const { token } = await login(newOpenid('host'), app)
      const form = new FormData()
      form.append('avatar', new Blob([PNG]), 'a.png')
      const res = await app.fetch('http://wxa.test/auth/profile', {
        method: 'POST',
        headers: { Authorization: `JWT ${token}`, Host: 'attacker.example' },
        body: form,
      })
      const text = await res.text()
      expect(res.status, text).toBe(200)
      const key = new URL(JSON.parse(text).profile.avatarUrl).pathname.split('/').pop()
      const pending = await call<{ checks: { mediaUrl: string }[] }>(
        'GET',
        '/__emulator/media-checks',
      )
      const sent = pending.body.checks.map((c) => c.mediaUrl).filter((u) => u.endsWith(`/${key}`))
      expect(sent).toEqual([`${base}/auth/avatars/${key}`])
    }
  })
})
