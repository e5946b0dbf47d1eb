// Load runs from a process of their own: autocannon against the server,
// JSON out. `node bench/load.mjs '<json options>'` runs one; with `--serve`
// it runs one per line of JSON on stdin, answering a line each, so that the
// bench starts Node and autocannon once. Only loopback targets. Options:
//   tokens: a pool of tokens, one per request in turn (`chain`: refresh
//     tokens, sent in the body as `refreshToken`, each answer's refresh token
//     replacing the one it was sent with; a session is in at most one request
//     at a time);
//   codes: a login code per request; vary: a changed session value per request;
//   multipart: a file field sent as wx.uploadFile sends it;
//   burst: { path, size }: POST /bench/burst, each request naming `size`
//     tokens of the pool in turn, to be dispatched to `path` in the isolate.
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'

/** One run; its counts, and the pool's tokens as they end when chained. */
async function run({
  url,
  method = 'GET',
  path,
  token,
  tokens,
  chain = false,
  scheme = 'JWT',
  body,
  multipart,
  duration,
  amount,
  connections = 16,
  codes,
  vary,
  burst,
}) {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`not a loopback URL: ${url}`)
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `${scheme} ${token}`
  let payload = body === undefined ? undefined : JSON.stringify(body)
  if (multipart) {
    const boundary = `----wxa-bench-${Date.now()}`
    headers['content-type'] = `multipart/form-data; boundary=${boundary}`
    payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${multipart.field}"; filename="${multipart.filename}"\r\nContent-Type: ${multipart.type}\r\n\r\n`,
      ),
      Buffer.from(multipart.base64, 'base64'),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ])
  }

  let next = 0
  const current = tokens ? [...tokens] : []
  const idle = current.map((_, i) => i)
  const request = {
    method: burst ? 'POST' : method,
    path: burst ? '/bench/burst' : path,
    headers,
    ...(payload === undefined ? {} : { body: payload }),
    ...(codes || vary || tokens
      ? {
          setupRequest(req, context) {
            const n = next++
            const changed = { ...req }
            if (codes) changed.body = JSON.stringify({ code: codes[n % codes.length] })
            if (vary) changed.body = JSON.stringify({ [vary]: n })
            if (burst) {
              const named = Array.from(
                { length: burst.size },
                (_, j) => current[(n * burst.size + j) % current.length],
              )
              changed.body = JSON.stringify({ path: burst.path, tokens: named, scheme })
            } else if (tokens) {
              const i = chain ? (idle.shift() ?? 0) : n % current.length
              context.session = i
              if (chain) changed.body = JSON.stringify({ refreshToken: current[i] })
              else changed.headers = { ...req.headers, authorization: `${scheme} ${current[i]}` }
            }
            return changed
          },
        }
      : {}),
    ...(chain
      ? {
          onResponse(status, answer, context) {
            // A refused refresh keeps its session out of the pool: its old token would be reuse.
            if (status !== 200) return
            current[context.session] = JSON.parse(answer).refreshToken
            idle.push(context.session)
          },
        }
      : {}),
  }

  const result = await autocannon({
    url,
    connections,
    // By count, sampled every 100 ms: autocannon ends a run at a sample, 1 s apart by default.
    ...(amount ? { amount, sampleInt: 100 } : { duration }),
    requests: [request],
  })
  const ok = result['2xx']
  return {
    // Sent, answered or not: a timed run stops with requests in flight that the server still served.
    requests: result.requests.sent,
    ok,
    errors: result.errors + result.timeouts + result.non2xx,
    rps: ok / (result.duration || 1),
    p50: result.latency.p50,
    p99: result.latency.p99,
    ...(chain ? { tokens: current } : {}),
  }
}

if (process.argv[2] === '--serve') {
  for await (const line of createInterface({ input: process.stdin })) {
    process.stdout.write(`${JSON.stringify(await run(JSON.parse(line)))}\n`)
  }
} else {
  const options = JSON.parse(process.argv[2] ?? readFileSync(0, 'utf8'))
  process.stdout.write(JSON.stringify(await run(options)))
}
