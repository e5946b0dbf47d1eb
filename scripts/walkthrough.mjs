// Runs the README's curl walkthrough verbatim against `npm run dev`, so the
// README cannot drift from what the Worker does. Part of `npm test`. Only the
// port changes (a free one), so that several checkouts can test at once.
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

const readme = readFileSync('README.md', 'utf8')
const script = /<!-- walkthrough -->\s*```sh\n([\s\S]*?)```/.exec(readme)?.[1]
if (!script) throw new Error('README.md has no <!-- walkthrough --> sh block')

/** @type {number} */
const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
    server.close(() => resolve(port))
  })
})
const base = `http://127.0.0.1:${port}`
const dev = spawn('node', ['scripts/dev.mjs'], {
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true,
  env: { ...process.env, PORT: String(port) },
})
let log = ''
dev.stdout.on('data', (chunk) => (log += chunk))
dev.stderr.on('data', (chunk) => (log += chunk))
const stop = () => {
  try {
    process.kill(-(dev.pid ?? 0), 'SIGTERM')
  } catch {}
}

try {
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break
    } catch {}
    if (Date.now() > deadline) throw new Error(`wrangler dev did not start:\n${log}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  const verbatim = script.replaceAll('http://127.0.0.1:8787', base)
  const output = execFileSync('bash', ['-euo', 'pipefail', '-c', verbatim], { encoding: 'utf8' })
  const expected = [
    '"openid":"alice"',
    '{"data":{"nickName":"Alice"}}',
    '"purePhoneNumber":"13800138000"',
    '{"ok":true}',
    '"code":"SESSION_EXPIRED"',
  ]
  let at = 0
  for (const text of expected) {
    const found = output.indexOf(text, at)
    if (found < 0) throw new Error(`walkthrough output lacks ${text} (in order):\n${output}`)
    at = found + text.length
  }
  if (/error|warn/i.test(log.replace(/SESSION_EXPIRED|401 Unauthorized/g, ''))) {
    throw new Error(`wrangler dev printed errors or warnings:\n${log}`)
  }
  console.log('walkthrough: 1 passed, 0 failed')
} finally {
  stop()
}
