// Several isolates of the deployable Worker in one Miniflare instance: each
// worker is the same bundle in its own isolate (its own module state and
// caches), all bound to one KV namespace and one Durable Object namespace of
// session objects, as Workers in several locations share them.
import { randomBytes } from 'node:crypto'
import { Miniflare, type WorkerOptions } from 'miniflare'
import { bundleWorker } from '../../scripts/bundle-worker.mjs'

export interface Isolate {
  name: string
  fetch(path: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<Reply>
}

export interface Reply {
  status: number
  body: any
}

/** An answer read as a client reads it: the status, and the body as JSON (or its text). */
export async function replyOf(res: Response): Promise<Reply> {
  const text = await res.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = text
  }
  return { status: res.status, body }
}

const bundled = new Map<string, Promise<string>>()

/**
 * A Worker entry bundled as wrangler would, once per test run: by default the
 * dev Worker (the deployable one plus the emulator), or `src/worker.ts`.
 */
export function bundle(entry = 'src/dev.ts'): Promise<string> {
  const made = bundled.get(entry)
  if (made) return made
  const making = bundleWorker(entry)
  bundled.set(entry, making)
  return making
}

/**
 * Starts `isolates.length` workers of the Worker; `isolates[i]` are extra
 * bindings of worker i (e.g. `{ SESSION_CONSISTENCY: 'strict' }`). `entry`
 * is the Worker (the dev Worker by default); `avatars` binds one R2 bucket
 * to all as `AVATARS`.
 */
export async function startIsolates(
  isolates: Record<string, string>[],
  { entry, avatars = false }: { entry?: string; avatars?: boolean } = {},
) {
  const script = await bundle(entry)
  const secrets = {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    STORAGE_SECRET: randomBytes(32).toString('base64url'),
  }
  const first = 'isolate-0'
  const workers: WorkerOptions[] = isolates.map((vars, i) => ({
    name: `isolate-${i}`,
    modules: true,
    script,
    compatibilityDate: '2026-07-30',
    // One namespace for all: the same id.
    kvNamespaces: { SESSIONS: 'wxa-auth-sessions' },
    ...(avatars ? { r2Buckets: { AVATARS: 'wxa-auth-avatars' } } : {}),
    durableObjects:
      i === 0
        ? {
            // SQLite storage, as `new_sqlite_classes` gives them in wrangler.toml.
            USER_SESSIONS: { className: 'UserSessions', useSQLite: true },
            WECHAT_EMULATOR: { className: 'WeChatEmulator', useSQLite: true },
          }
        : {
            USER_SESSIONS: { className: 'UserSessions', scriptName: first, useSQLite: true },
            WECHAT_EMULATOR: { className: 'WeChatEmulator', scriptName: first, useSQLite: true },
          },
    bindings: { ...secrets, WECHAT_APP_ID: 'wx00000000emulator', ...vars },
  }))
  const mf = new Miniflare({ workers, cf: false })
  await mf.ready
  const handles: Isolate[] = await Promise.all(
    workers.map(async ({ name }) => {
      const worker = await mf.getWorker(name as string)
      return {
        name: name as string,
        async fetch(path, { token, json, ...init } = {}) {
          const headers = new Headers(init.headers as HeadersInit)
          headers.set('CF-Connecting-IP', '2001:db8:1::1')
          if (token) headers.set('Authorization', `JWT ${token}`)
          if (json !== undefined) headers.set('Content-Type', 'application/json')
          const res = await worker.fetch(`http://wxa.test${path}`, {
            ...init,
            headers,
            ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
          } as never)
          return replyOf(res as unknown as Response)
        },
      }
    }),
  )
  return { isolates: handles, mf, dispose: () => mf.dispose() }
}

/** Logs `openid` in at `isolate` with a fresh emulator code; the token and the user id. */
export async function loginAt(isolate: Isolate, openid: string) {
  const { body: issued } = await isolate.fetch('/__emulator/code', {
    method: 'POST',
    json: { openid },
  })
  const res = await isolate.fetch('/auth/login', { method: 'POST', json: { code: issued.code } })
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`)
  return {
    token: res.body.token as string,
    refreshToken: res.body.refreshToken as string,
    uid: res.body.user.id as string,
  }
}
