// What the deployment tests share: a clean copy of the repository as a
// clone has it, a stand-in for a platform's gateway, the recipes as the
// README prints them, and logins through the emulator.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import { createServer, request as httpRequest } from 'node:http'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { emulatorClient } from '../../src/testing-node'
import { APP_ID, caller } from './stack'

/** The repository's files as a fresh clone has them (tracked, and new ones not ignored), copied to `to`. */
export function cloneInto(to: string): string[] {
  const files = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      encoding: 'utf8',
    },
  )
    .split('\0')
    .filter(Boolean)
  for (const file of files) {
    mkdirSync(dirname(join(to, file)), { recursive: true })
    try {
      copyFileSync(file, join(to, file))
    } catch {} // deleted in the work tree, not yet in the index
  }
  return files
}

/**
 * A shell block of README.md as printed: the first ```sh fence after
 * `<!-- recipe: name -->`.
 */
export function recipe(name: string, readme = 'README.md'): string {
  const text = readFileSync(readme, 'utf8')
  const at = text.indexOf(`<!-- recipe: ${name} -->`)
  if (at < 0) throw new Error(`${readme} has no recipe ${name}`)
  const block = /```(?:sh|bash)\n([\s\S]*?)^```$/m.exec(text.slice(at))
  if (!block?.[1]) throw new Error(`the recipe ${name} has no shell block`)
  return block[1]
}

/**
 * A stand-in for a platform's gateway (Cloud Hosting's, SCF's API gateway,
 * an ingress): every request reaches `target` from this one address, with the
 * client's address appended to `X-Forwarded-For`. The client's address is
 * what the test says in `X-Test-Client`, as each user's phone would differ.
 */
export async function gateway(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target)
  const server = createServer((req, res) => {
    const client = String(req.headers['x-test-client'] ?? req.socket.remoteAddress)
    const headers = { ...req.headers }
    delete headers['x-test-client']
    headers['x-forwarded-for'] = headers['x-forwarded-for']
      ? `${headers['x-forwarded-for']}, ${client}`
      : client
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    forwarded.on('error', () => res.writeHead(502).end())
    req.pipe(forwarded)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** Logs in `users` different users through `base`, each from an address of its own: the statuses. */
export async function loginMany(base: string, emulatorUrl: string, users: number) {
  const call = caller(base)
  const emulator = emulatorClient(emulatorUrl)
  const statuses: number[] = []
  for (let i = 0; i < users; i++) {
    const code = await emulator.loginCode(`gw-${i}-${Math.random().toString(36).slice(2, 8)}`)
    const login = await call('/auth/login', {
      method: 'POST',
      json: { code },
      headers: { 'X-Test-Client': `203.0.113.${i + 1}` },
    })
    statuses.push(login.status)
  }
  return statuses
}

/** Starts `bin args` (a server on `port`), resolved once its /healthz answers 200. */
export async function startServer(
  bin: string,
  args: string[],
  { cwd, env, port }: { cwd: string; env: Record<string, string>; port: number },
): Promise<{ url: string; output: string[]; child: ChildProcess }> {
  const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const output: string[] = []
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => output.push(line))
  }
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  const healthy = () =>
    fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
  while (!(await healthy())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(output.join('\n'))
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return { url, output, child }
}

/** The variables a deployed server is given in the platform's settings: Redis, the app, fresh secrets. */
export const serverVars = (redisUrl: string, emulatorUrl: string, appSecret: string) => ({
  REDIS_URL: redisUrl,
  WECHAT_APP_ID: APP_ID,
  WECHAT_APP_SECRET: appSecret,
  JWT_SECRET: randomBytes(32).toString('base64url'),
  STORAGE_SECRET: randomBytes(32).toString('base64url'),
  WECHAT_API_BASE: emulatorUrl,
})
