import { base64url, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { requireLogin } from '../src/middleware/require-login'
import {
  call,
  decodeJwt,
  expectError,
  login,
  refreshWith,
  served,
  testApp,
  testEnv,
} from './helpers'

const APP_ID = 'wx00000000emulator'
const secret = () => new TextEncoder().encode(testEnv.JWT_SECRET)
const now = () => Math.floor(Date.now() / 1000)

/** A token like ours for a live session, with `change` applied. */
async function forge(
  change: {
    claims?: Record<string, unknown>
    header?: Record<string, unknown>
    key?: Uint8Array
  } = {},
) {
  const { token } = await login()
  const { payload } = decodeJwt(token)
  return new SignJWT({ ...payload, ...change.claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'main', ...change.header })
    .sign(change.key ?? secret())
}

/** The Worker's app with a protected probe whose runs are counted. */
let ran = 0
const probeApp = testApp()
probeApp.get('/probe', requireLogin(), (c) => {
  ran++
  return c.json({ user: c.var.user })
})
const probe = served(probeApp)

/** Sends the attempt to the probe: a 401 with `code`, and the handler never ran. */
async function expectRejected(
  attempt: { token?: string; headers?: Record<string, string>; path?: string },
  code = 'TOKEN_INVALID',
) {
  const before = ran
  const res = await call('GET', attempt.path ?? '/probe', attempt, probe)
  expectError(res, 401, code)
  if (code !== 'AUTH_REQUIRED') {
    expect(res.headers.get('www-authenticate')).toMatch(
      /^JWT realm="wxa-auth", error="invalid_token"/,
    )
  }
  expect(ran, 'the handler ran').toBe(before)
}

describe('tokens that must be rejected', () => {
  it('accepts a forged token only when it is exactly like ours (control)', async () => {
    const before = ran
    expect((await call('GET', '/probe', { token: await forge() }, probe)).status).toBe(200)
    expect(ran).toBe(before + 1)
  })

  it('rejects an expired token', async () => {
    const token = await forge({ claims: { iat: now() - 7200, exp: now() - 3600 } })
    await expectRejected({ token }, 'TOKEN_EXPIRED')
  })

  it('rejects a tampered payload', async () => {
    const [header, , signature] = (await forge()).split('.')
    const { payload } = decodeJwt(await forge())
    const tampered = base64url.encode(JSON.stringify({ ...payload, sub: 'u_someone_else' }))
    await expectRejected({ token: `${header}.${tampered}.${signature}` })
  })

  it('rejects alg: none', async () => {
    const { payload } = decodeJwt(await forge())
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'main' }))
    const body = base64url.encode(JSON.stringify(payload))
    await expectRejected({ token: `${header}.${body}.` })
    await expectRejected({ token: `${header}.${body}` })
  })

  it('rejects another spelling of the same signature (non-canonical base64url)', async () => {
    const token = await forge()
    const last = token.at(-1) as string
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const twin = alphabet[alphabet.indexOf(last) + 1] as string // same 2 data bits, other padding bits
    await expectRejected({ token: token.slice(0, -1) + twin })
  })

  it('rejects a token signed with another key', async () => {
    const key = new TextEncoder().encode('another-secret-that-is-long-enough-0123456789')
    await expectRejected({ token: await forge({ key }) })
  })

  it('rejects an HMAC-signed token that claims RS256 (algorithm confusion)', async () => {
    const { payload } = decodeJwt(await forge())
    const input = [{ alg: 'RS256', typ: 'JWT', kid: 'main' }, payload]
      .map((part) => base64url.encode(JSON.stringify(part)))
      .join('.')
    const key = await crypto.subtle.importKey(
      'raw',
      secret(),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    )
    const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input))
    const token = `${input}.${base64url.encode(new Uint8Array(mac))}`
    await expectRejected({ token })
  })

  it('rejects an unknown kid', async () => {
    await expectRejected({ token: await forge({ header: { kid: 'old' } }) })
    await expectRejected({ token: await forge({ header: { kid: "../main' OR 1=1" } }) })
  })

  it('rejects the wrong issuer or audience', async () => {
    await expectRejected({ token: await forge({ claims: { iss: 'evil' } }) })
    await expectRejected({ token: await forge({ claims: { aud: 'wxother' } }) })
  })

  it('rejects nbf in the future and iat far in the future', async () => {
    await expectRejected({ token: await forge({ claims: { nbf: now() + 600 } }) })
    await expectRejected({ token: await forge({ claims: { iat: now() + 600 } }) })
  })

  it('rejects a valid signature over a session that does not exist', async () => {
    const token = await forge({ claims: { sid: 'A'.repeat(43) } })
    await expectRejected({ token }, 'SESSION_EXPIRED')
  })

  it('rejects a session id that belongs to another user', async () => {
    const mine = decodeJwt((await login()).token).payload
    const token = await forge({ claims: { sid: mine.sid } })
    await expectRejected({ token }, 'SESSION_EXPIRED')
  })
})

describe('tokens of ended sessions', () => {
  it('rejects the token of a revoked device', async () => {
    const mine = await login()
    const other = await login(mine.user.openid)
    const id = (await call('GET', '/auth/sessions', { token: other.token })).body.sessions.find(
      (s: { current: boolean }) => s.current,
    ).id
    await call('DELETE', `/auth/sessions/${id}`, { token: mine.token })
    await expectRejected({ token: other.token }, 'SESSION_EXPIRED')
  })

  it('rejects tokens after logout everywhere', async () => {
    const a = await login()
    const b = await login(a.user.openid)
    await call('POST', '/auth/logout-all', { token: a.token })
    await expectRejected({ token: a.token }, 'SESSION_EXPIRED')
    await expectRejected({ token: b.token }, 'SESSION_EXPIRED')
  })

  it('rejects an older generation after a refresh, as it rejects an ended session', async () => {
    const { token, refreshToken } = await login()
    const refreshed = await refreshWith(refreshToken)
    await expectRejected({ token }, 'SESSION_EXPIRED')
    expect((await call('GET', '/probe', { token: refreshed.body.token }, probe)).status).toBe(200)
  })

  it('rejects a token without gen once the session was refreshed', async () => {
    const { token, refreshToken } = await login()
    await refreshWith(refreshToken)
    const { payload } = decodeJwt(token)
    const stripped = await new SignJWT({ ...payload, gen: undefined })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'main' })
      .sign(secret())
    await expectRejected({ token: stripped }, 'SESSION_EXPIRED')
  })
})

describe('the Authorization header', () => {
  it('accepts JWT and Bearer, in any case', async () => {
    const { token } = await login()
    for (const scheme of ['JWT', 'Bearer', 'jwt', 'bearer']) {
      const res = await call('GET', '/me', { headers: { Authorization: `${scheme} ${token}` } })
      expect(res.status, scheme).toBe(200)
    }
  })

  it.each([
    ['another scheme', (t: string) => `Basic ${t}`],
    ['no scheme', (t: string) => t],
    ['two tokens', (t: string) => `JWT ${t} ${t}`],
    ['a trailing comma', (t: string) => `JWT ${t},`],
    ['64 KiB of token', (t: string) => `JWT ${t}${'a'.repeat(64 * 1024)}`],
  ])('rejects %s', async (_name, header) => {
    const { token } = await login()
    await expectRejected({ headers: { Authorization: header(token) } })
  })

  it('ignores a token in the query string or a cookie', async () => {
    const { token } = await login()
    await expectRejected({ path: `/probe?token=${token}` }, 'AUTH_REQUIRED')
    await expectRejected({ headers: { Cookie: `token=${token}` } }, 'AUTH_REQUIRED')
  })
})

describe('the token', () => {
  it('carries no session_key, AppSecret or openid', async () => {
    const { token, openid } = await login()
    const { header, payload } = decodeJwt(token)
    expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'gen', 'iat', 'iss', 'sid', 'sub'])
    expect(JSON.stringify({ header, payload })).not.toContain(openid)
    expect(payload.aud).toBe(APP_ID)
  })
})
