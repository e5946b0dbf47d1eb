// The Dockerfile, replayed: no Docker daemon runs here and no base image can
// be pulled, so its steps run as a builder would run them, each stage in a
// directory of its own standing for the image's filesystem: the build
// context is a clean copy of the repository with .dockerignore applied,
// COPY copies (from the context or an earlier stage), RUN runs in `sh` with
// the ARG and ENV values on the Node major of the FROM line, USER and
// HEALTHCHECK are checked, CMD starts the server. Then /healthz, the
// HEALTHCHECK command, and logins of 32 users through a stand-in for Cloud
// Hosting's gateway with container.config.json's variables, against the
// emulator and a real redis-server. What this cannot prove: the base image
// itself (its OS, its Node build, its `node` user's permissions), a port
// below 1024 as that user, and Cloud Hosting's own build.
import { type ChildProcess, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator } from '../../src/testing-node'
import { cloneInto, gateway, loginMany, serverVars, startServer } from './deploy'
import { freePort, type RedisServer, startRedis } from './redis-server'
import { registryEnv } from './registry-env'
import { APP_ID, caller, nodeBinaries } from './stack'

interface Instruction {
  op: string
  args: string
  line: number
}

/** The Dockerfile's instructions: continuation lines joined, comments and blank lines dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = []
  let pending = ''
  let start = 0
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (!pending && (line === '' || line.startsWith('#'))) return
    if (!pending) start = i + 1
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `
      return
    }
    const whole = pending + line
    pending = ''
    const match = /^(\S+)\s+([\s\S]*)$/.exec(whole)
    if (match)
      out.push({ op: (match[1] as string).toUpperCase(), args: match[2] as string, line: start })
  })
  return out
}

/** Exec form (a JSON array) or shell form. */
const command = (args: string): { exec: string[] } | { shell: string } =>
  args.startsWith('[') ? { exec: JSON.parse(args) } : { shell: args }

/** .dockerignore as Docker reads it: globs (`*`, `**`, `?`), `!` exceptions, the last match wins. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!')
      const glob = (negate ? line.slice(1) : line).replace(/^\/+|\/+$/g, '')
      const source = glob
        .split('/')
        .map((part) =>
          part === '**'
            ? '.*'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?')
      return { negate, pattern: new RegExp(`^${source}(?:/.*)?$`) }
    })
  return (path) => {
    let ignored = false
    for (const rule of rules) if (rule.pattern.test(path)) ignored = !rule.negate
    return ignored
  }
}

const node = nodeBinaries()

/** A Node binary of `major` (the `node` package gives 24, the system 20), its directory first on PATH. */
function nodeOfMajor(major: number): string {
  const found = node.find((binary) => binary.major === major)
  if (!found) throw new Error(`no Node ${major} here to replay a FROM node:${major} stage with`)
  return dirname(found.path)
}

interface Stage {
  root: string
  workdir: string
  env: Record<string, string>
  args: Record<string, string>
  user?: string
  healthcheck?: string[]
  cmd?: string[]
  expose?: number
  nodeBin: string
}

let temp: string
const stages: Stage[] = []
let redis: RedisServer
let emulator: Awaited<ReturnType<typeof startEmulator>>
let server: ChildProcess | undefined
const SECRET = randomBytes(16).toString('hex')
const instructions = parseDockerfile(readFileSync('Dockerfile', 'utf8'))
const config = JSON.parse(readFileSync('container.config.json', 'utf8'))

beforeAll(async () => {
  temp = mkdtempSync(join(tmpdir(), 'wxa-docker-'))
  const clone = join(temp, 'clone')
  const context = join(temp, 'context')
  cloneInto(clone)
  const ignored = dockerignore(readFileSync('.dockerignore', 'utf8'))
  cpSync(clone, context, {
    recursive: true,
    filter: (path) => {
      const rel = relative(clone, path)
      return rel === '' || !ignored(rel)
    },
  })
  const named = new Map<string, Stage>()
  let stage: Stage | undefined
  for (const { op, args, line } of instructions) {
    const where = `Dockerfile:${line} ${op}`
    const sh = (text: string) =>
      text.replace(/\$\{?(\w+)\}?/g, (_, name) => stage?.env[name] ?? stage?.args[name] ?? '')
    if (op === 'FROM') {
      const [, major, name] = /^node:(\d+)(?:[.\w-]*)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? []
      if (!major) throw new Error(`${where}: not a node:<major> image`)
      stage = {
        root: join(temp, `stage-${stages.length}`),
        workdir: '/',
        env: {},
        args: {},
        nodeBin: nodeOfMajor(Number(major)),
      }
      mkdirSync(stage.root, { recursive: true })
      stages.push(stage)
      if (name) named.set(name, stage)
      continue
    }
    if (!stage) throw new Error(`${where} before FROM`)
    const { root, workdir } = stage
    const inStage = (path: string) => join(root, path.startsWith('/') ? path : join(workdir, path))
    switch (op) {
      case 'ARG': {
        const [name, value = ''] = args.split('=')
        stage.args[name as string] = value
        break
      }
      case 'ENV':
        for (const pair of args.match(/\w+=\S+/g) ?? []) {
          const [name, value] = pair.split('=') as [string, string]
          stage.env[name] = value
        }
        break
      case 'WORKDIR':
        stage.workdir = args.startsWith('/') ? args : join(stage.workdir, args)
        mkdirSync(join(root, stage.workdir), { recursive: true })
        break
      case 'COPY': {
        const from = /^--from=(\S+)\s+/.exec(args)
        const parts = (from ? args.slice(from[0].length) : args).split(/\s+/)
        const dest = parts.pop() as string
        const source = from ? named.get(from[1] as string) : undefined
        if (from && !source) throw new Error(`${where}: no stage ${from[1]}`)
        const into = inStage(dest)
        for (const src of parts) {
          const path = source ? join(source.root, src) : join(context, src)
          if (!existsSync(path)) {
            throw new Error(`${where}: ${src} is not in the ${source ? 'stage' : 'build context'}`)
          }
          // A directory's contents go into dest; a file goes into dest/ or becomes dest.
          const target = statSync(path).isDirectory()
            ? into
            : dest.endsWith('/') || parts.length > 1
              ? join(into, basename(src))
              : into
          mkdirSync(statSync(path).isDirectory() ? target : dirname(target), { recursive: true })
          cpSync(path, target, { recursive: true })
        }
        break
      }
      case 'RUN': {
        const run = command(args)
        if ('exec' in run) throw new Error(`${where}: exec form is not replayed`)
        // A RUN names no path outside its stage: it runs in the image, not on this machine.
        expect(run.shell, where).not.toMatch(/(?:^|\s)\/(?!dev\/null)/)
        execFileSync('sh', ['-c', run.shell], {
          cwd: inStage('.'),
          env: {
            PATH: `${stage.nodeBin}:${process.env.PATH}`,
            HOME: join(temp, 'home'),
            npm_config_cache: join(process.env.HOME ?? '/root', '.npm'),
            npm_config_prefer_offline: 'true',
            ...registryEnv(),
            ...stage.args,
            ...stage.env,
          },
          stdio: ['ignore', 'ignore', 'pipe'],
          timeout: 5 * 60_000,
        })
        break
      }
      case 'USER':
        stage.user = args
        break
      case 'EXPOSE':
        stage.expose = Number(args)
        break
      case 'HEALTHCHECK': {
        const cmd = /CMD\s+([\s\S]+)$/.exec(args)?.[1] as string
        const parsed = command(cmd)
        stage.healthcheck = 'exec' in parsed ? parsed.exec : ['sh', '-c', parsed.shell]
        break
      }
      case 'CMD': {
        const parsed = command(args)
        stage.cmd = 'exec' in parsed ? parsed.exec : ['sh', '-c', parsed.shell]
        break
      }
      default:
        throw new Error(`${where}: not replayed (${sh(args)})`)
    }
  }
  redis = await startRedis()
  emulator = await startEmulator({ env: { WECHAT_APP_ID: APP_ID, WECHAT_APP_SECRET: SECRET } })
}, 10 * 60_000)

afterAll(async () => {
  server?.kill('SIGKILL')
  await redis?.dispose()
  await emulator?.close()
  if (temp) rmSync(temp, { recursive: true, force: true })
})

describe('the Dockerfile, replayed', () => {
  it('is a maintained LTS, takes an npm registry, runs as a non-root user on port 80', () => {
    const froms = instructions.filter((i) => i.op === 'FROM').map((i) => i.args)
    for (const from of froms) expect(from).toMatch(/^node:(22|24)-slim\b/)
    expect(instructions.filter((i) => i.op === 'ARG').map((i) => i.args)).toContain(
      'NPM_REGISTRY=https://registry.npmjs.org/',
    )
    expect(readFileSync('Dockerfile', 'utf8')).toContain('https://mirrors.cloud.tencent.com/npm/')
    const final = stages.at(-1) as Stage
    expect(final.user).toBe('node')
    expect(final.env.PORT).toBe('80')
    expect(final.expose).toBe(80)
    expect(config.containerPort).toBe(80)
    expect(config.dockerfilePath).toBe('Dockerfile')
    expect(instructions.some((i) => i.op === 'RUN' && /npm ci --omit=dev/.test(i.args))).toBe(true)
    // Nothing of the build stage's tooling in the image: production dependencies only.
    const modules = readdirSync(join(final.root, final.workdir, 'node_modules'))
    expect(modules).toContain('wxa-auth')
    expect(modules).not.toContain('wrangler')
    expect(modules).not.toContain('vitest')
  })

  it('serves /healthz, passes its HEALTHCHECK, and logs in 32 users behind the gateway', async () => {
    const final = stages.at(-1) as Stage
    const port = await freePort()
    const env = {
      PATH: `${final.nodeBin}:${process.env.PATH}`,
      ...final.env,
      // container.config.json's variables, filled in as in the service's settings.
      ...config.envParams,
      ...serverVars(redis.url, emulator.url, SECRET),
      PORT: String(port), // 80 in the image; a free port here
      HOST: '127.0.0.1',
    }
    const [bin, ...args] = final.cmd as [string, ...string[]]
    const started = await startServer(bin, args, {
      cwd: join(final.root, final.workdir),
      env,
      port,
    })
    server = started.child
    const { url, output } = started
    expect(await caller(url)('/readyz')).toMatchObject({ status: 200, body: { ok: true } })
    const [check, ...checkArgs] = final.healthcheck as [string, ...string[]]
    execFileSync(check, checkArgs, { env, stdio: 'ignore' }) // throws on a non-zero exit
    const front = await gateway(url)
    try {
      const statuses = await loginMany(front.url, emulator.url, 32)
      expect(
        statuses.filter((status) => status !== 200),
        output.join('\n'),
      ).toEqual([])
    } finally {
      await front.close()
    }
  })
})
