// One load run from its own process: autocannon against the Worker, JSON out.
// `node bench/load.mjs '<json options>'`; only loopback targets.
import autocannon from 'autocannon'

const {
  url,
  method = 'GET',
  path,
  token,
  scheme = 'JWT',
  body,
  duration,
  amount,
  connections = 16,
  codes,
  vary,
} = JSON.parse(process.argv[2] ?? '{}')
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`not a loopback URL: ${url}`)

const headers = { 'content-type': 'application/json' }
if (token) headers.authorization = `${scheme} ${token}`
let next = 0
const request = {
  method,
  path,
  headers,
  ...(body ? { body: JSON.stringify(body) } : {}),
  // Logins need a fresh code each; session writes need a changed value each.
  ...(codes || vary
    ? {
        setupRequest(req) {
          const n = next++
          return {
            ...req,
            body: JSON.stringify(codes ? { code: codes[n % codes.length] } : { [vary]: n }),
          }
        },
      }
    : {}),
}

const result = await autocannon({
  url,
  connections,
  ...(amount ? { amount } : { duration }),
  requests: [request],
})
const ok = result['2xx']
process.stdout.write(
  JSON.stringify({
    requests: result.requests.total,
    ok,
    errors: result.errors + result.timeouts + result.non2xx,
    rps: ok / (result.duration || 1),
    p50: result.latency.p50,
    p99: result.latency.p99,
  }),
)
