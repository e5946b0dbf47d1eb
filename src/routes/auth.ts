import type { Context } from 'hono'
import type { WxaConfig } from '../config'
import { WxaAuthError } from '../errors'
import { devices, revokeDevice } from '../flows/devices'
import { exportAccount } from '../flows/export'
import { deleteAccount } from '../flows/forget'
import { login } from '../flows/login'
import { logout, logoutAll } from '../flows/logout'
import { refresh } from '../flows/refresh'
import { limitBody } from '../middleware/body-limit'
import { limits } from '../middleware/rate-limit'
import { requireLogin } from '../middleware/require-login'
import type { WxaEnv } from '../middleware/session'
import { BODY, describe, json, UPSTREAM_CALL_ERRORS } from '../openapi/describe'
import type { ResolvedOptions } from '../options'
import { Hono } from '../util/hono'
import { flowContext } from './flow-context'
import {
  AccountDeletionBody,
  AccountExportResponse,
  LoginResponse,
  LogoutAllResponse,
  loginBody,
  Ok,
  RefreshBody,
  SessionsResponse,
  TokenResponse,
} from './schemas'

/**
 * Who a platform's gateway says sent a request without a code (WeChat Cloud
 * Hosting's headers): believed only where a login kind by trusted headers is
 * on; elsewhere the code is missing (400, as ever).
 */
function trustedOnly(flow: { config: Pick<WxaConfig, 'headerLogin'> }, headers: Headers) {
  const login = flow.config.headerLogin
  if (!login) throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: code is required.')
  return { platform: login.platform, ...login.caller(headers) }
}

/**
 * Answers `POST /auth/refresh`. The body is read leniently: a request without
 * a refresh token (no body, not JSON: what 0.3 clients send) is a 401 from
 * the flow, not a 400, so that those clients log in again. Marked with the
 * body's schema for the OpenAPI document.
 */
function refreshHandler<User extends { id: string }>(resolved: ResolvedOptions<User>) {
  const handler = async (c: Context<WxaEnv<User>>) => {
    const body: unknown = await c.req.json().catch(() => undefined)
    const presented =
      typeof body === 'object' && body !== null ? Reflect.get(body, 'refreshToken') : undefined
    const answer = await refresh(flowContext(resolved, c), presented)
    c.header('Cache-Control', 'no-store')
    return c.json(answer)
  }
  return Object.assign(handler, { [BODY]: RefreshBody })
}

/**
 * The `/auth` routes: login, refresh, logout, logout-all, account deletion
 * and the device list. Each parses, calls one flow and answers. Made by
 * {@link wxaAuth} (`auth.routes`). @internal
 */
export function authRoutes<User extends { id: string }>(resolved: ResolvedOptions<User>) {
  const routes = new Hono<WxaEnv<User>>()
  const { loginLimit, userLimit } = limits(resolved)

  routes.post(
    '/login',
    describe({
      tag: 'auth',
      summary: 'Log in with a login code (wx.login, tt.login, qq.login)',
      description:
        'Exchanges the code at the platform (code2Session), makes a session (a device) and answers with a token. With phoneCode, the phone number too. With CLOUD_HOSTING=wechat, a login without a code is the user WeChat Cloud Hosting’s X-WX-* headers name. For an Official Account page or a website (WECHAT_OA_APP_ID, WECHAT_WEB_APP_ID), the code and state WeChat passed back to the redirect page; for an App (WECHAT_MOBILE_APP_ID), the code of SendAuth. Such a code posted again within 60 s gets the first answer back.',
      auth: false,
      body: true,
      response: LoginResponse,
      errors: [
        'UNKNOWN_APP',
        'NOT_OFFERED',
        'RATE_LIMITED',
        'CLOUD_IDENTITY_MISSING',
        'LOGIN_CODE_REQUIRED',
        'CODE_INVALID',
        'CODE_USED',
        'SESSION_EXPIRED',
        'STATE_INVALID',
        'SNAPSHOT_USER',
        'LOGIN_IN_PROGRESS',
        'USER_BLOCKED',
        'USER_BANNED',
        'UPSTREAM_RATE_LIMITED',
        ...UPSTREAM_CALL_ERRORS,
        'SIGNATURE_INVALID',
        'DECRYPT_FAILED',
        'PHONE_CODE_INVALID',
        'WECHAT_PHONE_QUOTA_EXHAUSTED',
        'ACCESS_TOKEN_INVALID',
        'STORAGE_UNAVAILABLE',
        'STORAGE_OUTCOME_UNKNOWN',
      ],
    }),
    loginLimit,
    limitBody(),
    json(loginBody(resolved.platforms)),
    async (c) => {
      const body = c.req.valid('json')
      const flow = flowContext(resolved, c)
      const answer = await login(flow, {
        ...body,
        fields: body,
        ...(body.code === undefined ? { trusted: trustedOnly(flow, c.req.raw.headers) } : {}),
        userAgent: c.req.header('User-Agent'),
      })
      c.header('Cache-Control', 'no-store')
      return c.json(answer)
    },
  )

  routes.post(
    '/refresh',
    describe({
      tag: 'auth',
      summary: 'New tokens for the same session, by refresh token',
      description:
        'Takes the refresh token (the body, never a header: an access token never refreshes) and answers a new access token and a new refresh token; the older ones stop working, and past half its lifetime the session is extended. The refresh token the last refresh replaced, presented again within REFRESH_GRACE_SECONDS (30 s) and before its successor was used, gets the same answer again (a lost answer retried); any other replaced refresh token ends the session (reuse, TOKEN_REVOKED). Without a refresh token (what 0.3 clients send): 401 AUTH_REQUIRED.',
      auth: false,
      response: TokenResponse,
      errors: ['AUTH_REQUIRED', 'TOKEN_INVALID', 'TOKEN_REVOKED', 'SESSION_EXPIRED', 'USER_BANNED'],
    }),
    limitBody(),
    refreshHandler(resolved),
  )

  routes.post(
    '/logout',
    describe({
      tag: 'auth',
      summary: 'End this session',
      description:
        'Idempotent: a token of a session already over (or replaced by a refresh) answers ok too, so a client may retry.',
      auth: true,
      response: Ok,
      errors: [],
    }),
    async (c) => {
      await logout(flowContext(resolved, c), c.var.session, c.var.authError)
      return c.json({ ok: true as const })
    },
  )

  routes.post(
    '/logout-all',
    describe({
      tag: 'devices',
      summary: 'End every session of the user',
      auth: true,
      response: LogoutAllResponse,
      errors: [],
    }),
    requireLogin(),
    async (c) => {
      const loggedOut = await logoutAll(flowContext(resolved, c), c.var.session)
      return c.json({ ok: true as const, loggedOut })
    },
  )

  routes.delete(
    '/account',
    describe({
      tag: 'auth',
      summary: 'Delete the account (注销)',
      description:
        'With a fresh login code of the same user (with CLOUD_HOSTING=wechat also without one, when WeChat Cloud Hosting’s X-WX-* headers name that user): calls onDeleteAccount, ends every session of the user and deletes every identity (session_key) and unionid link it logged in with.',
      auth: true,
      body: true,
      response: Ok,
      errors: [
        'UNKNOWN_APP',
        'RATE_LIMITED',
        'REAUTH_REQUIRED',
        'CLOUD_IDENTITY_MISSING',
        'NOT_OFFERED',
        'USER_BLOCKED',
        'UPSTREAM_RATE_LIMITED',
        ...UPSTREAM_CALL_ERRORS,
      ],
    }),
    requireLogin(),
    // Each call spends a code2Session: as many as logins from one address, and per user.
    loginLimit,
    userLimit,
    limitBody(),
    json(AccountDeletionBody),
    async (c) => {
      const { code, state } = c.req.valid('json')
      const flow = flowContext(resolved, c)
      await deleteAccount(
        flow,
        c.var.session,
        c.var.user as User,
        code !== undefined
          ? { code, ...(state !== undefined ? { state } : {}) }
          : { trusted: trustedOnly(flow, c.req.raw.headers) },
      )
      return c.json({ ok: true as const })
    },
  )

  routes.get(
    '/account/export',
    describe({
      tag: 'auth',
      summary: 'The user’s own copy of their data (PIPL art. 45)',
      description:
        'Identities (never a session_key), devices, profile, this session’s data, a ban that holds, and the user’s own audit records, oldest first. Rate-limited per user.',
      auth: true,
      response: AccountExportResponse,
      errors: ['RATE_LIMITED'],
    }),
    requireLogin(),
    userLimit,
    async (c) => {
      const origin = new URL(c.req.url).origin
      c.header('Cache-Control', 'no-store')
      return c.json(await exportAccount(flowContext(resolved, c), c.var.session, origin))
    },
  )

  routes.get(
    '/sessions',
    describe({
      tag: 'devices',
      summary: 'The user’s sessions (devices), newest first',
      auth: true,
      response: SessionsResponse,
      errors: [],
    }),
    requireLogin(),
    async (c) => c.json({ sessions: await devices(flowContext(resolved, c), c.var.session) }),
  )

  routes.delete(
    '/sessions/:id',
    describe({
      tag: 'devices',
      summary: 'End one session (log a device out)',
      auth: true,
      parameters: [
        { name: 'id', in: 'path', description: 'The public id from GET /auth/sessions.' },
      ],
      response: Ok,
      errors: ['SESSION_NOT_FOUND'],
    }),
    requireLogin(),
    async (c) => {
      await revokeDevice(flowContext(resolved, c), c.var.session, c.req.param('id'))
      return c.json({ ok: true as const })
    },
  )

  return routes
}
