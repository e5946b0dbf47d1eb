import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { Hono } from 'hono/tiny'
import type { WxaConfig } from '../config'
import { type ResolvedOptions, resolveOptions, type WxaAuthOptions } from '../config'
import { isWxaAuthError, WxaAuthError } from '../errors'
import { clientAddress, rateLimit } from '../middleware/rate-limit'
import { requireLogin } from '../middleware/require-login'
import type { WxaEnv } from '../middleware/session'
import { describe, json, WECHAT_CALL_ERRORS } from '../openapi/describe'
import { deviceHints } from '../session/device'
import { defaultUserIdFor } from '../session/identities'
import { hashSessionId, newSessionId } from '../session/ids'
import type { SessionRecord, SessionSummary } from '../session/record'
import { Session } from '../session/session'
import { RESERVED_CLAIMS, signToken } from '../token/jwt'
import { importKeyRing } from '../token/keys'
import type { DefaultUser } from '../user/hooks'
import { userInfoReader } from '../wechat/user-info'
import {
  AccountDeletionBody,
  LoginBody,
  LoginResponse,
  LogoutAllResponse,
  Ok,
  SessionsResponse,
  TokenResponse,
} from './schemas'

export const MAX_BODY_SIZE = 16 * 1024 // bytes

/** Rejects bodies over {@link MAX_BODY_SIZE} with 413 before they are read. */
export const limitBody = () =>
  bodyLimit({
    maxSize: MAX_BODY_SIZE,
    onError: () => {
      throw new WxaAuthError('PAYLOAD_TOO_LARGE')
    },
  })

const USER_ID = /^[\w.@-]{1,128}$/
const IDENTITY_SLACK = 24 * 60 * 60 // 1 day, seconds: how often a login may rewrite an unchanged identity
const SESSION_ID = /^[\w-]{43}$/

const iso = (seconds: number) => new Date(seconds * 1000).toISOString()

/** A device-list entry as the client sees it. */
const describeSession = (s: SessionSummary, current: string | null) => ({
  id: s.id,
  current: s.id === current,
  createdAt: iso(s.createdAt),
  refreshedAt: iso(s.refreshedAt),
  expiresAt: iso(s.expiresAt),
  device: s.device ?? {},
})

async function tokenFor<User extends { id: string }>(
  { hooks }: ResolvedOptions<User>,
  { secrets, issuer, audience }: WxaConfig,
  user: User,
  sid: string,
  record: SessionRecord,
  now: number,
) {
  const claims = { ...(await hooks.userToClaims(user)) }
  for (const name of RESERVED_CLAIMS) delete claims[name]
  const token = await signToken(
    await importKeyRing(secrets),
    { ...claims, sub: record.uid, sid, gen: record.gen, exp: record.expiresAt },
    { issuer, audience, now },
  )
  return {
    token,
    tokenType: 'JWT' as const,
    expiresAt: iso(record.expiresAt),
    // Relative, so that a client can keep its own deadline without comparing its clock with ours.
    expiresIn: record.expiresAt - now,
  }
}

/**
 * The `/auth` routes as a sub-app: login (with optional user info verified
 * and decrypted with the fresh session_key), refresh, logout, logout-all and
 * the device list. Each session change is one call to the user's session
 * object. Mount it behind `wxaSession()` with the same options.
 *
 * @example
 * ```ts
 * app.use(wxaSession(options))
 * app.route('/auth', authRoutes(options))
 * ```
 */
export function authRoutes<User extends { id: string } = DefaultUser>(
  options: WxaAuthOptions<User> = {},
) {
  const resolved = resolveOptions(options)
  const { config, hooks, now } = resolved
  const routes = new Hono<WxaEnv<User>>()
  const loginLimit = rateLimit({
    limiter: (c) => config(c).rateLimits.login,
    key: (c) => `login:${clientAddress(c, resolved.log)}`,
    log: resolved.log,
  })
  /** The user id and public id of the request's live session. */
  const current = (c: Context<WxaEnv<User>>) => {
    const { userId, publicId } = c.var.session
    return { uid: userId as string, id: publicId as string }
  }

  routes.post(
    '/login',
    describe({
      tag: 'auth',
      summary: 'Log in with a wx.login() code',
      description:
        'Exchanges the code at WeChat (code2Session), makes a session (a device) and answers with a token. With phoneCode, the phone number too.',
      auth: false,
      body: true,
      response: LoginResponse,
      errors: [
        'UNKNOWN_APP',
        'RATE_LIMITED',
        'WECHAT_CODE_INVALID',
        'WECHAT_CODE_USED',
        'WECHAT_USER_BLOCKED',
        'WECHAT_RATE_LIMITED',
        ...WECHAT_CALL_ERRORS,
        'WECHAT_SIGNATURE_INVALID',
        'WECHAT_DECRYPT_FAILED',
        'WECHAT_PHONE_CODE_INVALID',
        'WECHAT_PHONE_QUOTA_EXHAUSTED',
        'WECHAT_ACCESS_TOKEN_INVALID',
        'STORAGE_UNAVAILABLE',
        'STORAGE_OUTCOME_UNKNOWN',
      ],
    }),
    loginLimit,
    limitBody(),
    json(LoginBody),
    async (c) => {
      const { code, phoneCode, device, appId: named, ...data } = c.req.valid('json')
      const readUserInfo = userInfoReader(data)
      const settings = config(c)
      const { identities, sessionTtl, policy } = settings
      const appId = named ?? settings.appId
      const app = settings.apps.get(appId)
      if (!app) throw new WxaAuthError('UNKNOWN_APP')
      const deviceInfo = deviceHints(device, c.req.header('User-Agent'))
      await importKeyRing(settings.secrets) // a config error before WeChat spends the code
      const wechat = await app.wechat.code2Session(code)
      const { openid, sessionKey } = wechat
      const userInfo = await readUserInfo(sessionKey, appId)
      // From code2Session only: AES-CBC is malleable, so encryptedData's first
      // block (where unionId may sit) is not proof of anything.
      const unionid = wechat.unionid
      // The phone code is checked against this user by WeChat and never retried once sent.
      const phone = phoneCode
        ? await app.accessToken.withToken((token) =>
            app.wechat.getPhoneNumber(token, phoneCode, openid),
          )
        : undefined
      const time = now()
      const identity = await identities.get(appId, openid)
      const who = { appId, openid, ...(unionid ? { unionid } : {}), ...(phone ? { phone } : {}) }
      const user = resolved.ownUsers
        ? await hooks.findOrCreateUser(who, c)
        : ({
            id: await defaultUserIdFor(who, identity, settings, time),
            openid,
            ...(unionid ? { unionid } : {}),
          } as unknown as User)
      const uid = String(user?.id ?? '')
      if (!USER_ID.test(uid)) {
        throw new WxaAuthError('INTERNAL_ERROR', undefined, {
          cause: new Error('findOrCreateUser returned a user without a usable id'),
        })
      }
      if (userInfo) await hooks.onUserInfo(userInfo, user, c)
      if (phone) await hooks.onPhoneNumber(phone, user, c)

      const expiresAt = time + Math.min(sessionTtl, policy.maxAge)
      // Identity first: a session never exists without the identity it came from,
      // and the identity outlives every session it vouches for (refreshes extend
      // them up to SESSION_MAX_AGE). Rewritten only when it changed or at most
      // once a day, which keeps logins at two KV writes and under KV's one write
      // a second per key.
      if (
        !identity ||
        identity.sessionKey !== sessionKey ||
        identity.uid !== uid ||
        identity.unionid !== unionid ||
        identity.expiresAt - time < policy.maxAge
      ) {
        await identities.put(appId, openid, {
          v: 1,
          uid,
          ...(unionid ? { unionid } : {}),
          sessionKey,
          updatedAt: time,
          expiresAt: time + policy.maxAge + IDENTITY_SLACK,
        })
      }

      const sid = newSessionId()
      const id = await hashSessionId(sid)
      const record: SessionRecord = {
        v: 1,
        uid,
        appId,
        openid,
        ...(unionid ? { unionid } : {}),
        createdAt: time,
        createdAtMs: Date.now(),
        refreshedAt: time,
        expiresAt,
        gen: 0,
        ...(Object.keys(deviceInfo).length ? { device: deviceInfo } : {}),
        data: {},
      }
      // The object stores it and ends the oldest sessions past the cap, in one step.
      const evicted = await settings.authority.login(uid, id, record, policy, time)
      for (const old of evicted) settings.replica.ended(uid, old, expiresAt)
      if (settings.consistency === 'edge') settings.replica.remember(id, record)
      c.header('Cache-Control', 'no-store')
      return c.json({
        ...(await tokenFor(resolved, settings, user, sid, record, time)),
        user,
        ...(userInfo ? { userInfo } : {}),
        ...(phone ? { phone } : {}),
      })
    },
  )

  routes.post(
    '/refresh',
    describe({
      tag: 'auth',
      summary: 'A new token for the same session',
      description:
        'Older tokens of the session stop working; past half its lifetime the session is extended. The token the last refresh replaced, within REFRESH_GRACE_SECONDS (30 s) of it, gets a token of the current generation (a lost answer retried); any other replaced token presented here ends the session (reuse).',
      auth: true,
      response: TokenResponse,
      errors: [],
    }),
    async (c) => {
      const session = c.var.session
      // A replaced token goes on to the object, which ends the session on its reuse.
      const reused = c.var.authError === 'TOKEN_REVOKED' && session.publicId !== null
      if (!session.active && !reused) throw new WxaAuthError(c.var.authError ?? 'AUTH_REQUIRED')
      const settings = config(c)
      const { uid, id } = current(c)
      const time = now()
      const outcome = await settings.authority.refresh(
        uid,
        id,
        session.gen ?? 0,
        session.takeChange(),
        settings.policy,
        time,
      )
      if (!outcome.ok) {
        if (outcome.over) settings.replica.ended(uid, id, time + settings.policy.maxAge)
        else settings.replica.forget(uid, id)
        throw new WxaAuthError(outcome.refused)
      }
      if (settings.consistency === 'edge') settings.replica.remember(id, outcome.record)
      c.header('Cache-Control', 'no-store')
      // A replaced token refreshed within the grace: its user, as a live request would have it.
      let user = c.var.user as User | null
      if (!user && session.presented?.claims) {
        c.set('session', new Session(session.presented, outcome.record))
        user = await hooks.claimsToUser(session.presented.claims, c)
        if (!user) throw new WxaAuthError('SESSION_EXPIRED')
      }
      return c.json({
        ...(await tokenFor(
          resolved,
          settings,
          user as User,
          session.id as string,
          outcome.record,
          time,
        )),
        user,
      })
    },
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
      const session = c.var.session
      // Our token, of a session that is over: the logout already happened.
      if (c.var.authError === 'SESSION_EXPIRED') return c.json({ ok: true as const })
      const replaced = c.var.authError === 'TOKEN_REVOKED' && session.publicId !== null
      if (!session.active && !replaced) throw new WxaAuthError(c.var.authError ?? 'AUTH_REQUIRED')
      const { authority, replica, policy } = config(c)
      const { uid, id } = current(c)
      const time = now()
      await authority.end(uid, id, time)
      replica.ended(uid, id, time + policy.maxAge)
      session.end()
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
      const { authority, replica, policy } = config(c)
      const { uid } = current(c)
      const time = now()
      const ended = await authority.endAll(uid, time)
      for (const id of ended) replica.ended(uid, id, time + policy.maxAge)
      c.var.session.end()
      return c.json({ ok: true as const, loggedOut: ended.length })
    },
  )

  routes.delete(
    '/account',
    describe({
      tag: 'auth',
      summary: 'Delete the account (注销)',
      description:
        'With a fresh wx.login() code of the same user: calls onDeleteAccount, ends every session of the user and deletes every identity (session_key) and unionid link it logged in with.',
      auth: true,
      body: true,
      response: Ok,
      errors: [
        'UNKNOWN_APP',
        'RATE_LIMITED',
        'REAUTH_REQUIRED',
        'WECHAT_USER_BLOCKED',
        'WECHAT_RATE_LIMITED',
        ...WECHAT_CALL_ERRORS,
      ],
    }),
    requireLogin(),
    // Each call spends a code2Session: as many as logins from one address, and per user.
    loginLimit,
    rateLimit({
      limiter: (c) => config(c).rateLimits.user,
      key: (c) => `user:${c.var.session.userId}`,
      log: resolved.log,
    }),
    limitBody(),
    json(AccountDeletionBody),
    async (c) => {
      const { code } = c.req.valid('json')
      const settings = config(c)
      const session = c.var.session
      const appId = session.appId as string
      const app = settings.apps.get(appId)
      if (!app) throw new WxaAuthError('UNKNOWN_APP')
      // A code from wx.login a moment ago (codes live 5 minutes) of this very user.
      let openid: string
      try {
        ;({ openid } = await app.wechat.code2Session(code))
      } catch (err) {
        if (isWxaAuthError(err, 'WECHAT_CODE_INVALID', 'WECHAT_CODE_USED')) {
          throw new WxaAuthError('REAUTH_REQUIRED', undefined, { cause: err })
        }
        throw err
      }
      if (openid !== session.openid) throw new WxaAuthError('REAUTH_REQUIRED')
      // The app's data first: if that fails, nothing is gone and the user can try again.
      await hooks.onDeleteAccount(c.var.user as User, c)
      const { uid } = current(c)
      const time = now()
      // Every session ends and every identity the user logged in with goes, in any app.
      for (const id of await settings.authority.forget(uid, time)) {
        settings.replica.ended(uid, id, time + settings.policy.maxAge)
      }
      await settings.identities.delete(appId, openid)
      session.end()
      return c.json({ ok: true as const })
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
    async (c: Context<WxaEnv<User>>) => {
      const { uid, id } = current(c)
      const sessions = await config(c).authority.list(uid, now())
      return c.json({ sessions: sessions.map((s) => describeSession(s, id)) })
    },
  )

  routes.delete(
    '/sessions/:id',
    describe({
      tag: 'devices',
      summary: 'End one session (log a device out)',
      auth: true,
      parameters: [{ name: 'id', description: 'The public id from GET /auth/sessions.' }],
      response: Ok,
      errors: ['SESSION_NOT_FOUND'],
    }),
    requireLogin(),
    async (c) => {
      const target = c.req.param('id')
      const { authority, replica, policy } = config(c)
      const { uid, id } = current(c)
      const time = now()
      if (!SESSION_ID.test(target) || !(await authority.end(uid, target, time))) {
        throw new WxaAuthError('SESSION_NOT_FOUND')
      }
      replica.ended(uid, target, time + policy.maxAge)
      if (target === id) c.var.session.end()
      return c.json({ ok: true as const })
    },
  )

  return routes
}
