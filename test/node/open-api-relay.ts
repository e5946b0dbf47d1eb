// WeChat Cloud Hosting's open interface service (开放接口服务), played by a
// plain-http server of the test: it takes WeChat's server API without an
// access token, adds one (fetched from the emulator with the app's secret, as
// the real service holds the app's credentials) and relays to the emulator.
// code2Session is no cloud call: it passes through as it came. Every request
// is recorded as it arrived, so a test can say what the server sent.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request as the relay received it. */
export interface RelayedCall {
  method: string
  path: string
  query: Record<string, string>
}

export interface OpenApiRelay {
  /** `http://127.0.0.1:<port>`: the server's `WECHAT_API_BASE`. */
  readonly url: string
  readonly calls: readonly RelayedCall[]
  close(): Promise<void>
}

const read = async (req: IncomingMessage) => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

export async function startOpenApiRelay(options: {
  emulatorUrl: string
  appId: string
  appSecret: string
}): Promise<OpenApiRelay> {
  const { emulatorUrl, appId, appSecret } = options
  const calls: RelayedCall[] = []

  async function token(appid: string): Promise<string> {
    const res = await fetch(`${emulatorUrl}/cgi-bin/stable_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credential', appid, secret: appSecret }),
    })
    return ((await res.json()) as { access_token: string }).access_token
  }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://relay')
      const query = Object.fromEntries(url.searchParams)
      calls.push({ method: req.method ?? 'GET', path: url.pathname, query })
      const body = await read(req)
      const relayed = new URLSearchParams(url.searchParams)
      if (url.pathname !== '/sns/jscode2session') {
        relayed.delete('from_appid')
        relayed.set('access_token', await token(query.from_appid ?? appId))
      }
      const answer = await fetch(`${emulatorUrl}${url.pathname}?${relayed}`, {
        method: req.method ?? 'GET',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        ...(body.length ? { body } : {}),
      })
      res.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/json',
        'x-openapi-seqid': randomUUID(),
      })
      res.end(Buffer.from(await answer.arrayBuffer()))
    } catch (err) {
      res.writeHead(502).end(String(err))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
