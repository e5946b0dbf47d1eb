import { base64url, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { call, decodeJwt, expectError, login, testEnv } from './helpers'

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

function expectRejected(res: Awaited<ReturnType<typeof call>>, code = 'TOKEN_INVALID') {
  expectError(res, 401, code)
  expect(res.headers.get('www-authenticate')).toMatch(
    /^JWT realm="wxa-auth", error="invalid_token"/,
  )
}

describe('tokens that must be rejected', () => {
  it('accepts a forged token only when it is exactly like ours (control)', async () => {
    expect((await call('GET', '/me', { token: await forge() })).status).toBe(200)
  })

  it('rejects an expired token', async () => {
    const token = await forge({ claims: { iat: now() - 7200, exp: now() - 3600 } })
    expectRejected(await call('GET', '/me', { token }), 'TOKEN_EXPIRED')
  })

  it('rejects a tampered payload', async () => {
    const [header, , signature] = (await forge()).split('.')
    const { payload } = decodeJwt(await forge())
    const tampered = base64url.encode(JSON.stringify({ ...payload, sub: 'u_someone_else' }))
    expectRejected(await call('GET', '/me', { token: `${header}.${tampered}.${signature}` }))
  })

  it('rejects alg: none', async () => {
    const { payload } = decodeJwt(await forge())
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'main' }))
    const body = base64url.encode(JSON.stringify(payload))
    expectRejected(await call('GET', '/me', { token: `${header}.${body}.` }))
    expectRejected(await call('GET', '/me', { token: `${header}.${body}` }))
  })

  it('rejects a token signed with another key', async () => {
    const key = new TextEncoder().encode('another-secret-that-is-long-enough-0123456789')
    expectRejected(await call('GET', '/me', { token: await forge({ key }) }))
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
    expectRejected(await call('GET', '/me', { token }))
  })

  it('rejects an unknown kid', async () => {
    expectRejected(await call('GET', '/me', { token: await forge({ header: { kid: 'old' } }) }))
    expectRejected(
      await call('GET', '/me', { token: await forge({ header: { kid: "../main' OR 1=1" } }) }),
    )
  })

  it('rejects the wrong issuer or audience', async () => {
    expectRejected(await call('GET', '/me', { token: await forge({ claims: { iss: 'evil' } }) }))
    expectRejected(await call('GET', '/me', { token: await forge({ claims: { aud: 'wxother' } }) }))
  })

  it('rejects nbf in the future and iat far in the future', async () => {
    expectRejected(
      await call('GET', '/me', { token: await forge({ claims: { nbf: now() + 600 } }) }),
    )
    expectRejected(
      await call('GET', '/me', { token: await forge({ claims: { iat: now() + 600 } }) }),
    )
  })

  it('rejects a valid signature over a session that does not exist', async () => {
    const token = await forge({ claims: { sid: 'A'.repeat(43) } })
    expectRejected(await call('GET', '/me', { token }), 'SESSION_EXPIRED')
  })

  it('rejects a session id that belongs to another user', async () => {
    const mine = decodeJwt((await login()).token).payload
    const token = await forge({ claims: { sid: mine.sid } })
    expectRejected(await call('GET', '/me', { token }), 'SESSION_EXPIRED')
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
    expectRejected(await call('GET', '/me', { headers: { Authorization: header(token) } }))
  })

  it('ignores a token in the query string or a cookie', async () => {
    const { token } = await login()
    expectError(await call('GET', `/me?token=${token}`), 401, 'AUTH_REQUIRED')
    expectError(
      await call('GET', '/me', { headers: { Cookie: `token=${token}` } }),
      401,
      'AUTH_REQUIRED',
    )
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
