// The browser and App doors of WeChat: an Official Account page, a website,
// a mobile App, each an app of the `oauth` login kind, against the emulator.
import { describe, expect, it } from 'vitest'
import { emulatorStub } from '../src/emulator/stub'
import {
  appWith,
  call,
  codeFor,
  emulate,
  type Fetcher,
  newOpenid,
  testEnv,
  worker,
} from './helpers'
import { pushFor, send } from './pushes'

const OA = 'wx0000000000oa0001'
const WEB = 'wx000000000web0001'
const MOBILE = 'wx00000000mobile01'
const BACK = 'https://h5.example.com/login/back'

const vars = (more: Record<string, string> = {}) => ({
  WECHAT_OA_APP_ID: OA,
  WECHAT_WEB_APP_ID: WEB,
  WECHAT_MOBILE_APP_ID: MOBILE,
  WECHAT_REDIRECT_URIS: `${BACK} https://www.example.com/wechat`,
  ...more,
})

const app = (more: Record<string, string> = {}) => appWith(vars(more) as never)

/** `GET /auth/wechat/authorize`: the Location, or the reply. */
async function authorize(server: Fetcher, query: Record<string, string>) {
  const res = await server.fetch(
    `http://wxa.test/auth/wechat/authorize?${new URLSearchParams(query)}`,
    {
      headers: {
        'CF-Connecting-IP': `2001:db8:${Math.floor(Math.random() * 65535).toString(16)}::1`,
      },
      redirect: 'manual',
    },
  )
  return { status: res.status, location: res.headers.get('Location'), text: await res.text() }
}

/** The emulator's consent: the user allows; the page WeChat sends them back to, with code and state. */
async function consent(location: string, user: string): Promise<{ code: string; state: string }> {
  const url = new URL(location)
  url.searchParams.set('user', user)
  const res = await worker.fetch(`http://wxa.test${url.pathname}${url.search}`, {
    redirect: 'manual',
  })
  expect(res.status, await res.clone().text()).toBe(302)
  const back = new URL(res.headers.get('Location') ?? '')
  expect(`${back.origin}${back.pathname}`).toBe(BACK)
  return { code: back.searchParams.get('code') ?? '', state: back.searchParams.get('state') ?? '' }
}

/** The whole browser flow up to the page that posts to /auth/login. */
async function redirected(server: Fetcher, user: string, appId = OA, scope = 'snsapi_userinfo') {
  const started = await authorize(server, { appId, redirectUri: BACK, scope })
  expect(started.status, started.text).toBe(302)
  return consent(started.location ?? '', user)
}

const loginWith = (server: Fetcher, json: Record<string, unknown>) =>
  call('POST', '/auth/login', { json }, server)

async function appCode(openid: string, appId = MOBILE, extra: Record<string, unknown> = {}) {
  const res = await call('POST', '/__emulator/oauth/code', { json: { appId, openid, ...extra } })
  expect(res.status, res.text).toBe(200)
  return res.body.code as string
}

describe('GET /auth/wechat/authorize', () => {
  it('redirects an OA to the authorize page, a website to qrconnect, with a state', async () => {
    const server = app()
    const oa = await authorize(server, { appId: OA, redirectUri: BACK, scope: 'snsapi_base' })
    expect(oa.status).toBe(302)
    const to = new URL(oa.location ?? '')
    expect(to.pathname).toBe('/__emulator/connect/oauth2/authorize')
    expect(to.hash).toBe('#wechat_redirect')
    expect(to.searchParams.get('appid')).toBe(OA)
    expect(to.searchParams.get('redirect_uri')).toBe(BACK)
    expect(to.searchParams.get('response_type')).toBe('code')
    expect(to.searchParams.get('state')).toMatch(/^[A-Za-z0-9]{1,128}$/)
    const web = await authorize(server, { appId: WEB, redirectUri: BACK })
    expect(new URL(web.location ?? '').pathname).toBe('/__emulator/connect/qrconnect')
    expect(new URL(web.location ?? '').searchParams.get('scope')).toBe('snsapi_login')
  })

  it('refuses a redirect URI off the list: no open redirect', async () => {
    const server = app()
    for (const redirectUri of [
      'https://evil.example.com/login/back',
      'https://h5.example.com/login/other',
      'https://h5.example.com.evil.com/login/back',
      'javascript:alert(1)',
      '',
    ]) {
      const res = await authorize(server, { appId: OA, redirectUri, scope: 'snsapi_base' })
      expect(res.status, redirectUri).toBe(400)
      expect(res.location).toBeNull()
      expect(JSON.parse(res.text).error.code).toBe('REDIRECT_URI_INVALID')
    }
  })

  it('refuses a mini program, an App, an unknown app and a wrong scope', async () => {
    const server = app()
    const codes = async (query: Record<string, string>) =>
      JSON.parse((await authorize(server, query)).text).error.code
    expect(await codes({ appId: 'wx00000000emulator', redirectUri: BACK })).toBe('NOT_OFFERED')
    expect(await codes({ appId: MOBILE, redirectUri: BACK })).toBe('NOT_OFFERED')
    expect(await codes({ appId: 'wx0000000unknown', redirectUri: BACK })).toBe('UNKNOWN_APP')
    expect(await codes({ appId: OA, redirectUri: BACK, scope: 'snsapi_login' })).toBe(
      'INVALID_REQUEST',
    )
  })
})

describe('POST /auth/login with an OAuth code', () => {
  it('logs an OA page in: user info to the hook, the device marked oa', async () => {
    const server = app()
    const user = newOpenid('oa')
    const { code, state } = await redirected(server, user)
    const res = await loginWith(server, { code, state, appId: OA })
    expect(res.status, res.text).toBe(200)
    expect(res.body.user.openid).toBe(`${user}_${OA.slice(2, 10)}`)
    expect(res.body.userInfo).toMatchObject({ nickName: `Emulated ${user}` })
    const sessions = await call('GET', '/auth/sessions', { token: res.body.token }, server)
    expect(sessions.body.sessions[0].device.door).toBe('oa')
  })

  it('a state replayed, for another app, forged or missing is STATE_INVALID', async () => {
    const server = app()
    const first = await redirected(server, newOpenid('st'))
    expect((await loginWith(server, { ...first, appId: OA })).status).toBe(200)
    // The same state with a new code: replayed.
    const again = await redirected(server, newOpenid('st'))
    const replay = await loginWith(server, { code: again.code, state: first.state, appId: OA })
    expect(replay.status).toBe(400)
    expect(replay.body.error.code).toBe('STATE_INVALID')
    // A state the OA was given, at the website.
    const web = await authorize(server, { appId: OA, redirectUri: BACK, scope: 'snsapi_base' })
    const state = new URL(web.location ?? '').searchParams.get('state') ?? ''
    const other = await loginWith(server, { code: await appCode('x', WEB), state, appId: WEB })
    expect(other.body.error.code).toBe('STATE_INVALID')
    // Forged: one character changed; and none at all.
    const forged = `${again.state.slice(0, -1)}${again.state.endsWith('0') ? '1' : '0'}`
    expect(
      (await loginWith(server, { code: again.code, state: forged, appId: OA })).body.error.code,
    ).toBe('STATE_INVALID')
    expect((await loginWith(server, { code: again.code, appId: OA })).body.error.code).toBe(
      'STATE_INVALID',
    )
    // The right one still works: the refusals spent nothing.
    expect((await loginWith(server, { ...again, appId: OA })).status).toBe(200)
  })

  it('an expired state is STATE_INVALID', async () => {
    const server = app()
    const { code, state } = await redirected(server, newOpenid('ex'))
    // The expiry sits between the nonce (20) and the MAC (32): set it in the past, as time would.
    const expired = `${state.slice(0, 20)}${(1).toString(36)}${state.slice(-32)}`
    const res = await loginWith(server, { code, state: expired, appId: OA })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('STATE_INVALID')
  })

  it('a snapshot user is 403 SNAPSHOT_USER and nothing is made', async () => {
    const server = app()
    const { code, state } = await redirected(server, newOpenid('snap'))
    expect((await call('POST', '/__emulator/oauth/snapshot', { json: {} })).status).toBe(200)
    const res = await loginWith(server, { code, state, appId: OA })
    expect(res.status, res.text).toBe(403)
    expect(res.body.error.code).toBe('SNAPSHOT_USER')
    expect(res.body.token).toBeUndefined()
  })

  it('a code posted twice in the window gets the first answer; one session', async () => {
    const server = app()
    const { code, state } = await redirected(server, newOpenid('twice'))
    const [a, b] = await Promise.all([
      loginWith(server, { code, state, appId: OA }),
      loginWith(server, { code, state, appId: OA }),
    ])
    expect(a.status, a.text).toBe(200)
    expect(b.status, b.text).toBe(200)
    expect(b.body.token).toBe(a.body.token)
    expect(b.body.refreshToken).toBe(a.body.refreshToken)
    const later = await loginWith(server, { code, state, appId: OA })
    expect(later.body.token).toBe(a.body.token)
    const sessions = await call('GET', '/auth/sessions', { token: a.body.token }, server)
    expect(sessions.body.sessions).toHaveLength(1)
  })

  it('a code after its window (or spent elsewhere) is a clear 4xx', async () => {
    const server = app()
    const openid = newOpenid('used')
    const code = await appCode(openid)
    expect((await loginWith(server, { code, appId: MOBILE })).status).toBe(200)
    // Another deployment (its own claims) sees the code as WeChat does: used.
    const other = app({ STORAGE_SECRET: crypto.randomUUID() + crypto.randomUUID() })
    const res = await loginWith(other, { code, appId: MOBILE })
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    expect(res.body.error.code).toBe('CODE_INVALID')
  })

  it('WeChat down is a 5xx, and the code is not marked as answered', async () => {
    const server = app()
    const openid = newOpenid('down')
    const code = await appCode(openid)
    await emulate(openid, { fault: 'http500', times: 5 })
    const res = await loginWith(server, { code, appId: MOBILE })
    expect(res.status, res.text).toBeGreaterThanOrEqual(500)
    await emulate(openid, { fault: 'none' })
  })

  it('an App logs in with its SendAuth code, no state; the device marked app', async () => {
    const server = app()
    const openid = newOpenid('app')
    const res = await loginWith(server, { code: await appCode(openid), appId: MOBILE })
    expect(res.status, res.text).toBe(200)
    const sessions = await call('GET', '/auth/sessions', { token: res.body.token }, server)
    expect(sessions.body.sessions[0].device.door).toBe('app')
  })

  it('snsapi_base without a unionid is a user of its own', async () => {
    const server = app({ IDENTITY: 'unionid' })
    const user = newOpenid('base')
    await emulate(user, { unionid: `union-${user}` })
    const base = await redirected(server, user, OA, 'snsapi_base')
    const res = await loginWith(server, { ...base, appId: OA })
    expect(res.status, res.text).toBe(200)
    expect(res.body.user.unionid).toBeUndefined()
    expect(res.body.userInfo).toBeUndefined()
    const app2 = await loginWith(server, { code: await appCode(user), appId: MOBILE })
    expect(app2.body.user.id).not.toBe(res.body.user.id)
  })
})

describe('one person through every door', () => {
  /** One unionid logged in through all five doors: the answers, the PC scan's last. */
  async function throughFiveDoors(server: Fetcher, user: string) {
    await emulate(user, { unionid: `union-${user}` })
    const mini = await loginWith(server, { code: await codeFor(user) })
    const oa = await loginWith(server, { ...(await redirected(server, user)), appId: OA })
    const web = await loginWith(server, {
      ...(await redirected(server, user, WEB, 'snsapi_login')),
      appId: WEB,
    })
    const mobile = await loginWith(server, { code: await appCode(user), appId: MOBILE })
    // The fifth door: a PC's scan, confirmed by the mini program.
    const scan = await call('POST', '/auth/scan', { json: {} }, server)
    expect(scan.status, scan.text).toBe(200)
    const confirmed = await call(
      'POST',
      `/auth/scan/${scan.body.ticket}/confirm`,
      { token: mini.body.token },
      server,
    )
    expect(confirmed.status, confirmed.text).toBe(200)
    const pc = await call('GET', `/auth/scan/${scan.body.ticket}`, {}, server)
    expect(pc.body.status, pc.text).toBe('confirmed')
    for (const r of [mini, oa, web, mobile]) expect(r.status, r.text).toBe(200)
    return { mini, oa, web, mobile, pc }
  }

  it('with IDENTITY=unionid: mini program, OA, website, App and a PC scan are one user, five devices', async () => {
    const server = app({ IDENTITY: 'unionid' })
    const doors = await throughFiveDoors(server, newOpenid('one'))
    const answers = Object.values(doors)
    expect(new Set(answers.map((r) => r.body.user.id)).size).toBe(1)
    const list = await call('GET', '/auth/sessions', { token: doors.mobile.body.token }, server)
    type Listed = { device: { door?: string; platform?: string } }
    expect(
      list.body.sessions
        .map((s: Listed) => s.device.door ?? (s.device.platform === 'pc-scan' ? 'pc' : 'mp'))
        .sort(),
    ).toEqual(['app', 'mp', 'oa', 'pc', 'web'])
    const out = await call('POST', '/auth/logout-all', { token: doors.oa.body.token }, server)
    expect(out.body.loggedOut).toBe(5)
    for (const { body } of answers) {
      expect((await call('GET', '/me', { token: body.token }, server)).status).toBe(401)
    }
  })

  it('a ban by an operator ends every door’s session, and each door’s login is 403 USER_BANNED', async () => {
    const key = 'cS3n1XzV8qL0mT5wR9pB2dK7hF4gJ6aY'
    const server = app({ IDENTITY: 'unionid', ADMIN_KEYS: `ops:${key}` })
    const user = newOpenid('banned')
    const doors = await throughFiveDoors(server, user)
    const uid = doors.mini.body.user.id
    const ban = await call(
      'POST',
      `/admin/api/users/${uid}/ban`,
      { json: { reason: 'abuse' }, headers: { Authorization: `Bearer ${key}` } },
      server,
    )
    expect(ban.status, ban.text).toBe(200)
    for (const { body } of Object.values(doors)) {
      expect((await call('GET', '/me', { token: body.token }, server)).status).toBe(401)
    }
    const again = [
      await loginWith(server, { code: await codeFor(user) }),
      await loginWith(server, { ...(await redirected(server, user)), appId: OA }),
      await loginWith(server, {
        ...(await redirected(server, user, WEB, 'snsapi_login')),
        appId: WEB,
      }),
      await loginWith(server, { code: await appCode(user), appId: MOBILE }),
    ]
    for (const res of again) {
      expect([res.status, res.body.error?.code], res.text).toEqual([403, 'USER_BANNED'])
    }
  })

  it('a cancellation pushed for the mini program ends every door’s session, all five', async () => {
    const server = app({ IDENTITY: 'unionid' })
    const user = newOpenid('gone')
    const answers = Object.values(await throughFiveDoors(server, user))
    const push = await pushFor({
      openid: user,
      event: 'user_authorization_cancellation',
      mode: 'safe',
    })
    expect((await send(server, push)).text).toBe('success')
    for (const { body } of answers) {
      expect((await call('GET', '/me', { token: body.token }, server)).status).toBe(401)
    }
  })

  it('an OA page user deletes the account with a fresh code and state', async () => {
    const server = app()
    const user = newOpenid('del')
    const oa = await loginWith(server, { ...(await redirected(server, user)), appId: OA })
    expect(oa.status, oa.text).toBe(200)
    const res = await call(
      'DELETE',
      '/auth/account',
      { token: oa.body.token, json: await redirected(server, user) },
      server,
    )
    expect(res.status, res.text).toBe(200)
    expect((await call('GET', '/me', { token: oa.body.token }, server)).status).toBe(401)
  })

  it('with IDENTITY=openid each app keeps its own user', async () => {
    const server = app()
    const user = newOpenid('own')
    await emulate(user, { unionid: `union-${user}` })
    const mini = await loginWith(server, { code: await codeFor(user) })
    const mobile = await loginWith(server, { code: await appCode(user), appId: MOBILE })
    expect(mini.body.user.id).not.toBe(mobile.body.user.id)
  })
})

describe('the emulator’s OAuth face', () => {
  const sns = async (path: string, query: Record<string, string>) =>
    (
      await emulatorStub(testEnv).fetch(`http://emulator${path}?${new URLSearchParams(query)}`)
    ).json() as Promise<any>

  it('exchanges a code once, reads the user, refreshes the token; WeChat’s errcodes', async () => {
    const code = await appCode(newOpenid('emu'))
    const query = { appid: MOBILE, secret: 'wrong', code, grant_type: 'authorization_code' }
    expect(await sns('/sns/oauth2/access_token', query)).toMatchObject({ errcode: 40125 })
    const secret = 'emulator-app-secret-not-a-secret'
    const token = await sns('/sns/oauth2/access_token', { ...query, secret })
    expect(token).toMatchObject({ expires_in: 7200, scope: 'snsapi_userinfo' })
    expect(await sns('/sns/oauth2/access_token', { ...query, secret })).toMatchObject({
      errcode: 40163,
    })
    const info = await sns('/sns/userinfo', {
      access_token: token.access_token,
      openid: token.openid,
      lang: 'zh_CN',
    })
    expect(info).toMatchObject({ openid: token.openid })
    const refreshed = await sns('/sns/oauth2/refresh_token', {
      appid: MOBILE,
      grant_type: 'refresh_token',
      refresh_token: token.refresh_token,
    })
    expect(refreshed.access_token).not.toBe(token.access_token)
    expect(refreshed.openid).toBe(token.openid)
    expect(
      await sns('/sns/oauth2/refresh_token', {
        appid: OA,
        grant_type: 'refresh_token',
        refresh_token: token.refresh_token,
      }),
    ).toMatchObject({ errcode: 40030 })
  })
})

describe('npm run dev', () => {
  it('the dev Worker serves an OA page login through the emulator, as the playground runs it', async () => {
    const apps = await call('GET', '/__emulator/oauth/apps')
    expect(apps.body).toEqual({
      oa: 'wx0000000emuoa001',
      web: 'wx000000emuweb001',
      mobile: 'wx000000emuapp001',
    })
    const back = `http://localhost:8787/?appId=${apps.body.oa}`
    const started = await authorize(worker, {
      appId: apps.body.oa,
      redirectUri: back,
      scope: 'snsapi_userinfo',
    })
    expect(started.status, started.text).toBe(302)
    const consentPage = new URL(started.location ?? '')
    const page = await worker.fetch(`http://wxa.test${consentPage.pathname}${consentPage.search}`)
    expect(await page.text()).toContain('Allow')
    consentPage.searchParams.set('user', newOpenid('dev'))
    const res = await worker.fetch(`http://wxa.test${consentPage.pathname}${consentPage.search}`, {
      redirect: 'manual',
    })
    const landed = new URL(res.headers.get('Location') ?? '')
    expect(landed.searchParams.get('appId')).toBe(apps.body.oa)
    const login = await call('POST', '/auth/login', {
      json: {
        code: landed.searchParams.get('code'),
        state: landed.searchParams.get('state'),
        appId: apps.body.oa,
      },
    })
    expect(login.status, login.text).toBe(200)
  })
})

describe('configuration', () => {
  it('an AppSecret that is not one is CONFIG_INVALID naming the variable', async () => {
    const server = app({ WECHAT_OA_APP_SECRET: 'not-a-secret' })
    const res = await call('GET', '/readyz', {}, server)
    expect(res.status).toBe(503)
    expect(res.text).toContain('WECHAT_OA_APP_SECRET')
    expect(res.text).not.toContain('not-a-secret')
  })

  it('a redirect URI with a query is CONFIG_INVALID naming WECHAT_REDIRECT_URIS', async () => {
    const res = await call(
      'GET',
      '/readyz',
      {},
      app({ WECHAT_REDIRECT_URIS: 'https://a.example/x?y=1' }),
    )
    expect(res.status).toBe(503)
    expect(res.text).toContain('WECHAT_REDIRECT_URIS')
  })
})
