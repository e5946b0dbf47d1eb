import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import {
  hashSessionId,
  newSessionId,
  type ResolvedOptions,
  resolveOptions,
  type WxaAuthOptions,
} from '../auth'
import type { WxaConfig } from '../config'
import { WxaAuthError } from '../errors'
import type { DefaultUser } from '../hooks'
import { clientAddress, rateLimit } from '../middleware/rate-limit'
import { requireLogin } from '../middleware/require-login'
import type { WxaEnv } from '../middleware/session'
import { type ObjectSchema, readJson, type StringSchema } from '../schema'
import type { DeviceInfo, SessionRecord, SessionSummary } from '../session/store'
import { RESERVED_CLAIMS, signToken } from '../token/jwt'
import { importKeyRing } from '../token/keys'
import { codeField, UserInfoProperties, userInfoReader } from './wechat-fields'

export const MAX_BODY_SIZE = 16 * 1024 // bytes
const MAX_USER_AGENT = 200 // characters kept of the User-Agent

const hint = { type: 'string', maxLength: 64 } as const satisfies StringSchema

/** `POST /auth/login` body. */
export const LoginBody = {
  type: 'object',
  properties: {
    code: codeField('The code from wx.login(); single use, valid for 5 minutes.'),
    appId: {
      type: 'string',
      maxLength: 64,
      description:
        'The mini program logging in, when this server serves several. @default the first',
    },
    device: {
      type: 'object',
      description: 'Coarse device hints for the device list (wx.getDeviceInfo / getAppBaseInfo).',
      properties: { platform: hint, system: hint, model: hint, brand: hint, version: hint },
      additionalProperties: false,
    },
    ...UserInfoProperties,
  },
  required: ['code'],
} as const satisfies ObjectSchema

/** Rejects bodies over {@link MAX_BODY_SIZE} with 413 before they are read. */
export const limitBody = () =>
  bodyLimit({
    maxSize: MAX_BODY_SIZE,
    onError: () => {
      throw new WxaAuthError('PAYLOAD_TOO_LARGE')
    },
  })

const USER_ID = /^[\w.@-]{1,128}$/
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

/** Drops the oldest sessions of `uid` so that one more fits under the cap. */
async function makeRoom({ store, maxSessions }: WxaConfig, uid: string) {
  const sessions = await store.listSessions(uid)
  const excess = sessions.length - maxSessions + 1
  if (excess <= 0) return
  sessions.sort((a, b) => a.createdAtMs - b.createdAtMs)
  await Promise.all(sessions.slice(0, excess).map((s) => store.deleteSession(uid, s.id)))
}

/**
 * The `/auth` routes as a sub-app: login (with optional user info verified
 * and decrypted with the fresh session_key), refresh, logout, logout-all and
 * the device list. Mount it behind `wxaSession()` with the same options.
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
    key: (c) => `login:${clientAddress(c)}`,
  })

  routes.post('/login', loginLimit, limitBody(), async (c) => {
    const { code, device, appId: named, ...data } = await readJson(c, LoginBody)
    const readUserInfo = userInfoReader(data)
    const settings = config(c)
    const { store, sessionTtl } = settings
    const appId = named ?? settings.appId
    const app = settings.apps.get(appId)
    if (!app) throw new WxaAuthError('UNKNOWN_APP')
    await importKeyRing(settings.secrets) // a config error before WeChat spends the code
    const { openid, unionid, sessionKey } = await app.wechat.code2Session(code)
    const userInfo = await readUserInfo(sessionKey, appId)
    const user = await hooks.findOrCreateUser({ appId, openid, ...(unionid ? { unionid } : {}) }, c)
    const uid = String(user?.id ?? '')
    if (!USER_ID.test(uid)) {
      throw new WxaAuthError('INTERNAL_ERROR', undefined, {
        cause: new Error('findOrCreateUser returned a user without a usable id'),
      })
    }
    if (userInfo) await hooks.onUserInfo(userInfo, user, c)

    const time = now()
    const expiresAt = time + sessionTtl
    // Identity first: a session never exists without the identity it came from.
    // It is rewritten only when it changed or half its lifetime is gone, which
    // keeps logins at two KV writes and under KV's one write a second per key.
    const identity = await store.getIdentity(appId, openid)
    if (
      !identity ||
      identity.sessionKey !== sessionKey ||
      identity.uid !== uid ||
      identity.unionid !== unionid ||
      identity.expiresAt - time < sessionTtl / 2
    ) {
      await store.putIdentity(appId, openid, {
        v: 1,
        uid,
        ...(unionid ? { unionid } : {}),
        sessionKey,
        updatedAt: time,
        expiresAt,
      })
    }
    await makeRoom(settings, uid)

    const sid = newSessionId()
    const userAgent = c.req.header('User-Agent')?.slice(0, MAX_USER_AGENT)
    const deviceInfo: DeviceInfo = { ...device, ...(userAgent ? { userAgent } : {}) }
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
    await store.putSession(await hashSessionId(sid), record)
    c.header('Cache-Control', 'no-store')
    return c.json({
      ...(await tokenFor(resolved, settings, user, sid, record, time)),
      user,
      ...(userInfo ? { userInfo } : {}),
    })
  })

  routes.post('/refresh', requireLogin(), async (c) => {
    const settings = config(c)
    const session = c.var.session
    const current = session.record() as SessionRecord
    const time = now()
    const record: SessionRecord = {
      ...current,
      gen: (current.gen ?? 0) + 1,
      refreshedAt: time,
      // Sliding expiry, at most one extension per half lifetime.
      expiresAt:
        current.expiresAt - time < settings.sessionTtl / 2
          ? time + settings.sessionTtl
          : current.expiresAt,
    }
    await settings.store.putSession(session.publicId as string, record)
    session.end() // written above, with any data the handler chain changed
    c.header('Cache-Control', 'no-store')
    const user = c.var.user as User
    return c.json({
      ...(await tokenFor(resolved, settings, user, session.id as string, record, time)),
      user,
    })
  })

  routes.post('/logout', requireLogin(), async (c) => {
    const session = c.var.session
    await config(c).store.deleteSession(session.userId as string, session.publicId as string)
    session.end()
    return c.json({ ok: true as const })
  })

  routes.post('/logout-all', requireLogin(), async (c) => {
    const { store } = config(c)
    const session = c.var.session
    const uid = session.userId as string
    const sessions = await store.listSessions(uid)
    const ids = new Set([...sessions.map((s) => s.id), session.publicId as string])
    await Promise.all([...ids].map((id) => store.deleteSession(uid, id)))
    session.end()
    return c.json({ ok: true as const, loggedOut: ids.size })
  })

  routes.get('/sessions', requireLogin(), async (c: Context<WxaEnv<User>>) => {
    const session = c.var.session
    const sessions = await config(c).store.listSessions(session.userId as string)
    const time = now()
    return c.json({
      sessions: sessions
        .filter((s) => s.expiresAt > time)
        .sort((a, b) => b.createdAtMs - a.createdAtMs)
        .map((s) => describeSession(s, session.publicId)),
    })
  })

  routes.delete('/sessions/:id', requireLogin(), async (c) => {
    const id = c.req.param('id')
    const session = c.var.session
    const uid = session.userId as string
    const { store } = config(c)
    // A read rather than the (eventually consistent) list: a session made a moment ago counts.
    if (!SESSION_ID.test(id) || !(await store.getSession(uid, id))) {
      throw new WxaAuthError('SESSION_NOT_FOUND')
    }
    await store.deleteSession(uid, id)
    if (id === session.publicId) session.end()
    return c.json({ ok: true as const })
  })

  return routes
}
