import { describe, expect, it } from 'vitest'
import { isWxaAuthError } from '../src/errors'
import {
  call,
  codeFor,
  configFromEnv,
  decodeJwt,
  expectError,
  kvKeys,
  newOpenid,
  readAtEdge,
  testEnv,
} from './helpers'

// The dev environment serves two mini programs (wrangler.toml [env.dev.vars]).
const FIRST = 'wx00000000emulator'
const SECOND = 'wx0000000000second'

async function loginTo(appId: string | undefined, openid: string) {
  const code = await codeFor(openid, appId ? { appId } : {})
  return call('POST', '/auth/login', { json: { code, ...(appId ? { appId } : {}) } })
}

describe('several mini programs on one deployment', () => {
  it('logs in to the app the login names; the first is the default', async () => {
    const openid = newOpenid()
    const first = await loginTo(undefined, openid)
    const second = await loginTo(SECOND, openid)
    expect(first.status, first.text).toBe(200)
    expect(second.status, second.text).toBe(200)
    // Same openid string, two apps: two users, two sessions, two identities.
    expect(first.body.user.id).not.toBe(second.body.user.id)
    expect(await kvKeys(`identity:${FIRST}:${openid}`)).toHaveLength(1)
    expect(await kvKeys(`identity:${SECOND}:${openid}`)).toHaveLength(1)
    await readAtEdge(first.body.token)
    await readAtEdge(second.body.token)
    expect(await kvKeys(`session:${first.body.user.id}:`)).toHaveLength(1)
    expect(await kvKeys(`session:${second.body.user.id}:`)).toHaveLength(1)
    const sessions = await call('GET', '/auth/sessions', { token: second.body.token })
    expect(sessions.body.sessions).toHaveLength(1)
    expect(decodeJwt(second.body.token).payload.sub).toBe(second.body.user.id)
  })

  it('rejects a code of one app presented for another (40029)', async () => {
    const code = await codeFor(newOpenid(), { appId: SECOND })
    const res = await call('POST', '/auth/login', { json: { code } })
    expectError(res, 401, 'CODE_INVALID')
  })

  it('rejects an AppID it does not serve', async () => {
    const code = await codeFor(newOpenid())
    const res = await call('POST', '/auth/login', { json: { code, appId: 'wxffffffffffffffff' } })
    expectError(res, 400, 'UNKNOWN_APP')
  })

  it('needs a secret for every app in production', () => {
    const env = {
      SESSIONS: testEnv.SESSIONS,
      USER_SESSIONS: testEnv.USER_SESSIONS,
      JWT_SECRET: 'a-jwt-secret-that-is-long-enough-0123456789',
      STORAGE_SECRET: 'a-storage-secret-that-is-long-enough-0123456789',
      WECHAT_APP_ID: 'wxaaaaaaaaaaaaaaaa wxbbbbbbbbbbbbbbbb',
    }
    // AppSecrets as WeChat issues them: 32 hexadecimal characters.
    const [S1, S2] = ['1'.repeat(32), '2'.repeat(32)]
    const error = (vars: Record<string, string>) => {
      try {
        configFromEnv({ ...env, ...vars })
        return null
      } catch (err) {
        return isWxaAuthError(err, 'CONFIG_INVALID') ? err.message : String(err)
      }
    }
    expect(error({ WECHAT_APP_SECRETS: `wxaaaaaaaaaaaaaaaa:${S1}` })).toContain(
      'wxbbbbbbbbbbbbbbbb',
    )
    expect(
      error({ WECHAT_APP_SECRETS: `wxaaaaaaaaaaaaaaaa:${S1} wxbbbbbbbbbbbbbbbb:${S2}` }),
    ).toBeNull()
    const config = configFromEnv({
      ...env,
      WECHAT_APP_SECRETS: `wxaaaaaaaaaaaaaaaa:${S1} wxbbbbbbbbbbbbbbbb:${S2}`,
    })
    expect(config.defaultAppId).toBe('wxaaaaaaaaaaaaaaaa')
    expect([...config.apps.keys()]).toEqual(['wxaaaaaaaaaaaaaaaa', 'wxbbbbbbbbbbbbbbbb'])
    expect(error({ WECHAT_APP_ID: 'not-an-appid', WECHAT_APP_SECRET: 's' })).toContain(
      'WECHAT_APP_ID',
    )
  })
})
