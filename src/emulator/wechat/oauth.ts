import type { Context, Hono } from 'hono'
import { EMULATOR_APP_SECRET } from '../stub'
import { CODE_TTL, type EmulatorState, newCode, OPENID, wx, wxError } from './state'

const OAUTH_TOKEN_LIFETIME = 2 * 60 * 60 // seconds, as WeChat's expires_in
const REFRESH_LIFETIME = 30 * 24 * 60 * 60 // seconds
const SCOPES = ['snsapi_base', 'snsapi_userinfo', 'snsapi_login'] as const
const APP_ID = /^wx[\w-]{1,40}$/

/** An OAuth code the consent page (or the control route) issued. */
interface OAuthCode {
  appId: string
  /** The emulated user (their mini program openid); the app's openid is derived from it. */
  user: string
  scope: string
  issuedAt: number
  used: boolean
}

/** An OAuth access or refresh token the emulator handed out. */
interface OAuthGrant {
  appId: string
  openid: string
  user: string
  scope: string
  expiresAt: number
}

/** The openid of `user` in `appId`: each app has its own, as on WeChat. */
const openidIn = (user: string, appId: string) => `${user}_${appId.slice(2, 10)}`

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

/**
 * WeChat's OAuth for Official Account pages, websites and Apps:
 * `/sns/oauth2/access_token`, `/sns/userinfo`, `/sns/oauth2/refresh_token`,
 * the consent pages `/__emulator/connect/oauth2/authorize` and
 * `/__emulator/connect/qrconnect` (the user picks who they are; back to
 * `redirect_uri` with `code` and `state`), `POST /__emulator/oauth/code`
 * (a code without a browser: the App's SendAuth) and
 * `POST /__emulator/oauth/snapshot` (the next token answer is a snapshot user).
 */
export function oauthApi(app: Hono, state: EmulatorState) {
  const { storage, env, now, ensureUser, getUser, putUser, injectFault, body } = state

  /** The secret of an OA, website or mobile app as configured, else the stand-in. */
  function secretOf(appId: string): string {
    const vars = env as unknown as Record<string, string | undefined>
    for (const prefix of ['WECHAT_OA', 'WECHAT_WEB', 'WECHAT_MOBILE']) {
      for (const pair of vars[`${prefix}_APP_SECRETS`]?.trim().split(/\s+/) ?? []) {
        const at = pair.indexOf(':')
        if (pair.slice(0, at) === appId) return pair.slice(at + 1)
      }
      if (vars[`${prefix}_APP_ID`]?.trim() === appId && vars[`${prefix}_APP_SECRET`]) {
        return (vars[`${prefix}_APP_SECRET`] as string).trim()
      }
    }
    return EMULATOR_APP_SECRET
  }

  async function issue(appId: string, user: string, scope: string, age = 0): Promise<string> {
    await ensureUser(user)
    const code = newCode()
    const issued: OAuthCode = { appId, user, scope, issuedAt: now() - age, used: false }
    await storage.put(`oauth:${code}`, issued)
    return code
  }

  async function grant(appId: string, openid: string, user: string, scope: string) {
    const accessToken = `emu_oa_${newCode()}`
    const refreshToken = `emu_or_${newCode()}`
    const base = { appId, openid, user, scope }
    await storage.put(`oauthToken:${accessToken}`, {
      ...base,
      expiresAt: now() + OAUTH_TOKEN_LIFETIME,
    })
    await storage.put(`oauthRefresh:${refreshToken}`, {
      ...base,
      expiresAt: now() + REFRESH_LIFETIME,
    })
    return {
      access_token: accessToken,
      expires_in: OAUTH_TOKEN_LIFETIME,
      refresh_token: refreshToken,
      openid,
      scope,
    }
  }

  // https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
  app.get('/sns/oauth2/access_token', async (c) => {
    const q = c.req.query()
    const appId = q.appid ?? ''
    if (!APP_ID.test(appId)) return wxError(40013, 'invalid appid')
    if (q.secret !== secretOf(appId)) return wxError(40125, 'invalid appsecret')
    if (q.grant_type !== 'authorization_code') return wxError(40002, 'invalid grant_type')
    if (!q.code) return wxError(41008, 'missing code')
    const issued = await storage.get<OAuthCode>(`oauth:${q.code}`)
    if (!issued || issued.appId !== appId) return wxError(40029, 'invalid code')
    const user = await getUser(issued.user)
    if (!user) return wxError(40029, 'invalid code')
    const spend = () => storage.put(`oauth:${q.code}`, { ...issued, used: true })
    const failed = await injectFault(user, spend)
    if (failed) return failed
    if (issued.used) return wxError(40163, 'code been used')
    if (now() - issued.issuedAt > CODE_TTL) return wxError(40029, 'invalid code')
    await spend()
    if (await storage.get<boolean>('oauthSnapshotNext')) {
      await storage.delete('oauthSnapshotNext')
      // A snapshot page's user is virtual: an openid that is not the user's.
      const answer = await grant(
        appId,
        `snapshot_${newCode().slice(0, 12)}`,
        user.openid,
        'snsapi_base',
      )
      return wx({ ...answer, is_snapshotuser: 1 })
    }
    const openid = openidIn(user.openid, appId)
    const answer = await grant(appId, openid, user.openid, issued.scope)
    // snsapi_base gives no unionid here: the emulated account is as if not bound for it.
    const unionid = issued.scope !== 'snsapi_base' && user.unionid ? { unionid: user.unionid } : {}
    return wx({ ...answer, ...unionid })
  })

  app.get('/sns/userinfo', async (c) => {
    const q = c.req.query()
    const held = await storage.get<OAuthGrant>(`oauthToken:${q.access_token ?? ''}`)
    if (!held || now() >= held.expiresAt) return wxError(40001, 'invalid credential')
    if (q.openid !== held.openid) return wxError(40003, 'invalid openid')
    if (held.scope === 'snsapi_base') return wxError(48001, 'api unauthorized')
    const user = await getUser(held.user)
    return wx({
      openid: held.openid,
      nickname: `Emulated ${held.user}`,
      sex: 0,
      province: '',
      city: '',
      country: '',
      headimgurl: `https://thirdwx.qlogo.cn/mmopen/emulator/${held.user}/132`,
      privilege: [],
      ...(user?.unionid ? { unionid: user.unionid } : {}),
    })
  })

  app.get('/sns/oauth2/refresh_token', async (c) => {
    const q = c.req.query()
    if (q.grant_type !== 'refresh_token') return wxError(40002, 'invalid grant_type')
    const held = await storage.get<OAuthGrant>(`oauthRefresh:${q.refresh_token ?? ''}`)
    if (!held || held.appId !== q.appid || now() >= held.expiresAt) {
      return wxError(40030, 'invalid refresh_token')
    }
    const accessToken = `emu_oa_${newCode()}`
    await storage.put(`oauthToken:${accessToken}`, {
      ...held,
      expiresAt: now() + OAUTH_TOKEN_LIFETIME,
    })
    return wx({
      access_token: accessToken,
      expires_in: OAUTH_TOKEN_LIFETIME,
      refresh_token: q.refresh_token,
      openid: held.openid,
      scope: held.scope,
    })
  })

  /** The consent page: who logs in; with `user`, the redirect back with a code. */
  const consent = (what: string) => async (c: Context) => {
    const q = c.req.query()
    const appId = q.appid ?? ''
    const scope = q.scope ?? ''
    let back: URL | undefined
    try {
      back = new URL(q.redirect_uri ?? '')
    } catch {}
    if (!APP_ID.test(appId) || !back || !SCOPES.includes(scope as never)) {
      return c.text('The emulator’s consent page needs appid, redirect_uri and scope.', 400)
    }
    if (q.user !== undefined) {
      if (!OPENID.test(q.user)) return c.text('user: 1 to 64 letters, digits, _ or -', 400)
      back.searchParams.set('code', await issue(appId, q.user, scope))
      if (q.state) back.searchParams.set('state', q.state)
      return c.redirect(back.href, 302)
    }
    const hidden = Object.entries(q)
      .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
      .join('')
    return c.html(
      `<!doctype html><meta charset="utf-8"><title>WeChat emulator: ${what}</title><h1>${what}</h1><p>${escapeHtml(appId)} asks for ${escapeHtml(scope)}.</p><form method="get">${hidden}<label>Log in as <input name="user" value="alice" pattern="[\\w-]{1,64}" required></label> <button>Allow</button></form>`,
    )
  }
  app.get('/__emulator/connect/oauth2/authorize', consent('Official Account page authorization'))
  app.get('/__emulator/connect/qrconnect', consent('Website login'))

  // A code as SendAuth gives an App (or a consent without a browser): { appId, openid, scope?, age? }.
  app.post('/__emulator/oauth/code', async (c) => {
    const { appId, openid, unionid, scope = 'snsapi_userinfo', age } = await body(c.req.raw)
    if (typeof appId !== 'string' || !APP_ID.test(appId)) return c.json({ error: 'appId' }, 400)
    if (typeof openid !== 'string' || !OPENID.test(openid)) return c.json({ error: 'openid' }, 400)
    if (!SCOPES.includes(scope as never)) return c.json({ error: 'scope' }, 400)
    const code = await issue(appId, openid, scope as string, typeof age === 'number' ? age : 0)
    if (typeof unionid === 'string') {
      const user = await ensureUser(openid)
      user.unionid = unionid
      await putUser(user)
    }
    return c.json({ code, openid: openidIn(openid, appId) })
  })

  // The OA, website and mobile apps configured beside the mini programs, for the playground.
  app.get('/__emulator/oauth/apps', (c) => {
    const vars = env as unknown as Record<string, string | undefined>
    const first = (name: string) => vars[name]?.trim().split(/\s+/)[0] || undefined
    return c.json({
      oa: first('WECHAT_OA_APP_ID'),
      web: first('WECHAT_WEB_APP_ID'),
      mobile: first('WECHAT_MOBILE_APP_ID'),
    })
  })

  // The next token answer is a snapshot page's user (is_snapshotuser: 1).
  app.post('/__emulator/oauth/snapshot', async (c) => {
    await body(c.req.raw)
    await storage.put('oauthSnapshotNext', true)
    return c.json({ ok: true })
  })
}
