// Several isolates of a Worker with a host app's hook (test/isolates/hooked-worker.ts):
// an account deleted in one isolate while another still receives an upload
// (M-2), and overlapping deliveries of one push to several isolates (M-5).
import { randomBytes } from 'node:crypto'
import type { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Isolate, loginAt, startIsolates } from './harness'

let isolates: Isolate[]
let mf: Miniflare
let dispose: () => Promise<void>
let n = 0
const openid = () => `trust-${++n}-${Math.random().toString(36).slice(2, 8)}`
const codeOf = (reply: { body: any }) => reply.body?.error?.code ?? null

/** A well-formed 1×1 PNG. */
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
)

beforeAll(async () => {
  const vars = { WECHAT_EVENT_TOKEN: randomBytes(16).toString('hex'), HOOK_MS: '400' }
  ;({ isolates, mf, dispose } = await startIsolates([vars, vars, vars], {
    entry: 'test/isolates/hooked-worker.ts',
    avatars: true,
  }))
}, 60_000)
afterAll(() => dispose?.())

const at = (i: number) => isolates[i % isolates.length] as Isolate

describe('an account deletion in one isolate wins against an upload in another (M-2)', () => {
  it('the upload finishing after the deletion is 401; no profile, no avatar; the next login has none', async () => {
    const user = openid()
    const { token } = await loginAt(at(0), user)
    const bucket = await mf.getR2Bucket('AVATARS')
    const before = (await bucket.list()).objects.map((o) => o.key)
    const boundary = `----wxa${randomBytes(6).toString('hex')}`
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="nickname"\r\n\r\nGhost\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="avatar"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
    )
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
    let release = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 0) controller.enqueue(new Uint8Array(Buffer.concat([head, PNG_1X1])))
        else if (sent === 1) {
          await held
          controller.enqueue(new Uint8Array(tail))
        } else controller.close()
        sent++
      },
    })
    const upload = at(0).fetch('/auth/profile', {
      method: 'POST',
      token,
      headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    } as never)
    // The upload is past its login check, waiting for the rest of its body.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const { body: issued } = await at(1).fetch('/__emulator/code', {
      method: 'POST',
      json: { openid: user },
    })
    const deleted = await at(1).fetch('/auth/account', {
      method: 'DELETE',
      token,
      json: { code: issued.code },
    })
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200)
    release()
    const res = await upload
    expect([res.status, codeOf(res)]).toEqual([401, 'SESSION_EXPIRED'])
    expect((await bucket.list()).objects.map((o) => o.key)).toEqual(before)
    const again = await loginAt(at(2), user)
    expect((await at(2).fetch('/auth/profile', { token: again.token })).body.profile).toEqual({
      nickname: null,
      avatarUrl: null,
    })
  })
})

describe('each push is acted on once across isolates (M-5)', () => {
  const runs = async (user: string) =>
    (await (await mf.getKVNamespace('SESSIONS')).list({ prefix: `hook-run:${user}:` })).keys.length
  async function cancellations(user: string, count: number) {
    const createTime = Math.floor(Date.now() / 1000)
    return Promise.all(
      Array.from({ length: count }, async () => {
        const res = await at(0).fetch('/__emulator/push', {
          method: 'POST',
          json: { openid: user, event: 'user_authorization_cancellation', createTime },
        })
        expect(res.status).toBe(200)
        return res.body as { query: string; body: string; contentType: string }
      }),
    )
  }
  const deliver = (isolate: Isolate, push: { query: string; body: string; contentType: string }) =>
    isolate.fetch(`/wechat/events?${push.query}`, {
      method: 'POST',
      body: push.body,
      headers: { 'Content-Type': push.contentType },
    })

  it('4 simultaneous deliveries of one cancellation, to three isolates, run the hook once', async () => {
    const user = openid()
    const { token } = await loginAt(at(0), user)
    const pushes = await cancellations(user, 4)
    const answers = await Promise.all(pushes.map((push, i) => deliver(at(i), push)))
    expect(await runs(user)).toBe(1)
    expect(answers.filter((a) => a.body === 'success')).toHaveLength(1)
    for (const answer of answers.filter((a) => a.body !== 'success')) {
      expect([answer.status, codeOf(answer)]).toEqual([503, 'EVENT_IN_PROGRESS'])
    }
    for (const [i, push] of pushes.entries()) {
      expect((await deliver(at(i + 1), push)).body).toBe('success')
    }
    expect(await runs(user)).toBe(1)
    expect(codeOf(await at(2).fetch('/me', { token }))).toBe('SESSION_EXPIRED')
  })

  it('a hook that throws in one isolate lets the retry in another run it', async () => {
    const user = `fail-${openid()}`
    await loginAt(at(0), user)
    const [first, retry] = await cancellations(user, 2)
    expect((await deliver(at(0), first as never)).status).toBeGreaterThanOrEqual(500)
    expect((await deliver(at(1), retry as never)).body).toBe('success')
    expect(await runs(user)).toBe(2)
    expect((await deliver(at(2), first as never)).body).toBe('success')
    expect(await runs(user)).toBe(2)
  })
})
