// An existing Worker that mounts wxa-auth may be dated before JS RPC
// (compatibility_date 2024-04-03), or bind UserSessions with `new_classes`
// (KV storage) instead of `new_sqlite_classes`. Neither is a passing storage
// fault: both answer 500 CONFIG_INVALID naming the fix, never a retryable 503
// that the SDK would retry forever. The bundled dev Worker in Miniflare, as
// wrangler would run it with that wrangler.toml.
import { randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'
import { Miniflare } from 'miniflare'
import { describe, expect, it } from 'vitest'
import { bundle } from './harness'

/** Runs the Worker with `compatibilityDate` and the session objects' storage; `log` is what workerd printed. */
async function worker(compatibilityDate: string, useSQLite: boolean) {
  let log = ''
  const mf = new Miniflare({
    modules: true,
    script: await bundle(),
    compatibilityDate,
    kvNamespaces: { SESSIONS: 'wxa-auth-sessions' },
    durableObjects: {
      USER_SESSIONS: { className: 'UserSessions', useSQLite },
      WECHAT_EMULATOR: { className: 'WeChatEmulator', useSQLite: true },
    },
    bindings: {
      JWT_SECRET: randomBytes(32).toString('base64url'),
      STORAGE_SECRET: randomBytes(32).toString('base64url'),
      WECHAT_APP_ID: 'wx00000000emulator',
    },
    cf: false,
    // Kept for the assertions instead of printed: a passing test reads clean.
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.on('data', (chunk: Buffer) => (log += chunk))
      stderr.on('data', (chunk: Buffer) => (log += chunk))
    },
  })
  const post = async (path: string, body: unknown) => {
    const res = await mf.dispatchFetch(`http://wxa.test${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': '2001:db8::1' },
      body: JSON.stringify(body),
    })
    const json = (await res.json()) as {
      error?: { code: string; message: string }
      tokenType?: string
    }
    return { status: res.status, retryAfter: res.headers.get('Retry-After'), body: json }
  }
  const login = async () => {
    const { body } = await post('/__emulator/code', { openid: `compat-${Date.now()}` })
    return post('/auth/login', { code: (body as { code: string }).code })
  }
  return { login, log: () => log, dispose: () => mf.dispose() }
}

describe('a Worker wxa-auth cannot run in says why, once, as a 500', () => {
  it('compatibility_date before 2024-04-03 (no JS RPC): CONFIG_INVALID naming the date', async () => {
    const old = await worker('2024-01-01', true)
    try {
      const res = await old.login()
      expect(res).toMatchObject({ status: 500, retryAfter: null })
      expect(res.body.error?.code).toBe('CONFIG_INVALID')
      expect(res.body.error?.message).toContain('compatibility_date >= 2024-04-03')
      // workerd's own hint, from the one property the check reads; no call was made.
      expect(old.log()).toContain('update your compat date to 2024-04-03')
      expect(old.log()).not.toMatch(/STORAGE_(UNAVAILABLE|OUTCOME_UNKNOWN)/)
    } finally {
      await old.dispose()
    }
  }, 60_000)

  it('UserSessions with KV storage (new_classes): CONFIG_INVALID naming new_sqlite_classes', async () => {
    const kv = await worker('2026-07-30', false)
    try {
      const res = await kv.login()
      expect(res).toMatchObject({ status: 500, retryAfter: null })
      expect(res.body.error?.code).toBe('CONFIG_INVALID')
      expect(res.body.error?.message).toContain('new_sqlite_classes')
      expect(kv.log()).not.toMatch(/STORAGE_(UNAVAILABLE|OUTCOME_UNKNOWN)/)
    } finally {
      await kv.dispose()
    }
  }, 60_000)

  it('compatibility_date 2024-04-03 with SQLite storage: the login works', async () => {
    const first = await worker('2024-04-03', true)
    try {
      const res = await first.login()
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(res.body.tokenType).toBe('JWT')
    } finally {
      await first.dispose()
    }
  }, 60_000)
})
