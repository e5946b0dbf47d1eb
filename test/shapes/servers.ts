// Local HTTP servers that stand in for a platform's API as its documentation
// describes it, and the production Worker (src/worker.ts) in Miniflare
// pointed at them with `<P>_API_BASE`: real requests over loopback, from
// the Worker's own clients, nothing of the emulator.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll } from 'vitest'
import { bundle, type Reply, replyOf } from '../isolates/harness'

/** A request as the platform received it. */
export interface Received {
  method: string
  path: string
  query: Record<string, string>
  /** The names of the query parameters, in order, repeats included. */
  queryNames: string[]
  contentType: string | undefined
  text: string
}

/** The platform's answer: an HTTP status and a JSON body. */
let made = 0
/** A fresh openid: `<tag>-<n>-<random>`. */
export const freshOpenid = (tag = 'user') => `${tag}-${++made}-${randomBytes(4).toString('hex')}`

export interface Answer {
  status?: number
  body: unknown
  contentType?: string
}

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * A server on 127.0.0.1 that records each request and answers with `answer`.
 * `received` is everything it was sent, oldest first.
 */
export async function platformServer(answer: (req: Received) => Answer | Promise<Answer>) {
  const received: Received[] = []
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const entry: Received = {
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      queryNames: [...url.searchParams.keys()],
      contentType: req.headers['content-type'],
      text: await read(req),
    }
    received.push(entry)
    const { status = 200, body, contentType = 'application/json' } = await answer(entry)
    res.writeHead(status, { 'content-type': contentType })
    res.end(typeof body === 'string' ? body : JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** The deployable Worker with `vars`, its KV and session objects in Miniflare. */
export async function productionWorker(vars: Record<string, string>) {
  const mf = new Miniflare({
    modules: true,
    script: await bundle('src/worker.ts'),
    compatibilityDate: '2026-07-30',
    kvNamespaces: { SESSIONS: 'shapes-sessions' },
    durableObjects: { USER_SESSIONS: { className: 'UserSessions', useSQLite: true } },
    bindings: {
      JWT_SECRET: randomBytes(32).toString('base64url'),
      STORAGE_SECRET: randomBytes(32).toString('base64url'),
      WECHAT_APP_ID: '',
      WECHAT_TIMEOUT_MS: '1000',
      ...vars,
    },
  })
  await mf.ready
  let client = 0
  return {
    async fetch(method: string, path: string, json?: unknown, token?: string): Promise<Reply> {
      const headers: Record<string, string> = {
        // A client address each, as real ones have: the login rate limit is per address.
        'CF-Connecting-IP': `2001:db8:${(++client).toString(16)}::1`,
      }
      if (json !== undefined) headers['Content-Type'] = 'application/json'
      if (token) headers.Authorization = `JWT ${token}`
      const body = json === undefined ? {} : { body: JSON.stringify(json) }
      const res = await mf.dispatchFetch(`http://wxa.test${path}`, { method, headers, ...body })
      return replyOf(res as unknown as Response)
    },
    dispose: () => mf.dispose(),
  }
}

/**
 * The platform server answering with `answer`, and the production Worker
 * serving one app of the platform whose variables start with `prefix`
 * (`DOUYIN`, `QQ`), its `<P>_API_BASE` the server: both up for the test
 * file, started before its tests and stopped after them.
 */
export function againstServer(
  answer: (req: Received) => Answer | Promise<Answer>,
  prefix: string,
  { appId, appSecret }: { appId: string; appSecret: string },
) {
  const live = {} as {
    server: Awaited<ReturnType<typeof platformServer>>
    worker: Awaited<ReturnType<typeof productionWorker>>
  }
  beforeAll(async () => {
    live.server = await platformServer(answer)
    live.worker = await productionWorker({
      [`${prefix}_APP_ID`]: appId,
      [`${prefix}_APP_SECRET`]: appSecret,
      [`${prefix}_API_BASE`]: live.server.base,
    })
  }, 60_000)
  afterAll(async () => {
    await live.worker?.dispose()
    await live.server?.close()
  })
  return live
}

/**
 * `data` sealed as a platform seals it for the mini program (AES-128-CBC,
 * PKCS#7, key = the session_key, a random iv, the watermark inside), in
 * Node's own crypto: nothing of wxa-auth's.
 */
export async function seal(sessionKey: string, data: object, appid: string) {
  const { createCipheriv, createHash } = await import('node:crypto')
  const iv = randomBytes(16)
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), iv)
  const plain = JSON.stringify({ ...data, watermark: { appid, timestamp: 1_700_000_000 } })
  const encryptedData = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
  const rawData = JSON.stringify(data)
  const signature = createHash('sha1')
    .update(rawData + sessionKey)
    .digest('hex')
  return {
    encryptedData: encryptedData.toString('base64'),
    iv: iv.toString('base64'),
    rawData,
    signature,
  }
}

/**
 * `POST /auth/decrypt` of `data` sealed with `sessionKey` for `appid`, and
 * for `foreign` (another app's watermark): both replies.
 */
export async function decryptTwice(
  worker: { fetch: (m: string, p: string, json?: unknown, token?: string) => Promise<Reply> },
  token: string,
  sessionKey: string,
  data: object,
  [appid, foreign]: [string, string],
): Promise<[Reply, Reply]> {
  const own = await worker.fetch(
    'POST',
    '/auth/decrypt',
    await seal(sessionKey, data, appid),
    token,
  )
  const other = await worker.fetch(
    'POST',
    '/auth/decrypt',
    await seal(sessionKey, data, foreign),
    token,
  )
  return [own, other]
}
