import type { Context, Hono } from 'hono'
import { buildPush, type PushFormat, type PushMode } from '../push'
import {
  type AccessTokenState,
  DEFAULT_HANG_MS,
  EMULATED_PLATFORMS,
  type EmulatedPlatform,
  type EmulatorState,
  EVENT_NAME,
  FAULTS,
  type Fault,
  type IssuedCode,
  newCode,
  newSessionKey,
  OPENID,
  PHONE,
  type PhoneCode,
  PUSH_FROM,
  PUSH_TO,
  sealUserData,
  wxError,
} from './state'

/**
 * The control surface, `/__emulator/*`: login and phone codes, sealed user
 * data, users' faults, the access token's switches, and pushes as WeChat
 * would send them. See the README.
 */
export function controlSurface(app: Hono, state: EmulatorState) {
  const { storage, env, now, getUser, putUser, apps, appIds, platformOf, ensureUser, body } = state

  /**
   * The platform and app a control request is about: `appId` (its platform),
   * else `platform` (its first app), else WeChat's first app; or the 400.
   */
  function target(
    c: Context,
    appId: unknown,
    platform: unknown,
  ): { platform: EmulatedPlatform; appId: string } | Response {
    if (typeof appId === 'string') {
      const of = platformOf(appId)
      if (of) return { platform: of, appId }
      const all = EMULATED_PLATFORMS.flatMap((p) => [...apps[p]])
      return c.json({ error: `appId: not one of ${all.join(', ')}` }, 400)
    }
    const chosen = (platform ?? 'wechat') as EmulatedPlatform
    if (!EMULATED_PLATFORMS.includes(chosen)) {
      return c.json({ error: `platform: one of ${EMULATED_PLATFORMS.join(', ')}` }, 400)
    }
    const first = apps[chosen].values().next().value
    if (first === undefined) {
      return c.json({ error: `platform: no ${chosen} app is configured` }, 400)
    }
    return { platform: chosen, appId: first }
  }

  /** The platform of a `/users/:openid` request: `?platform=` or the body's, default WeChat. */
  const userPlatform = (c: Context, fromBody?: unknown): EmulatedPlatform | Response => {
    const chosen = (c.req.query('platform') ?? fromBody ?? 'wechat') as EmulatedPlatform
    return EMULATED_PLATFORMS.includes(chosen)
      ? chosen
      : c.json({ error: `platform: one of ${EMULATED_PLATFORMS.join(', ')}` }, 400)
  }

  // The apps the emulator plays each platform for: what the playground offers.
  app.get('/__emulator/apps', (c) =>
    c.json(Object.fromEntries(EMULATED_PLATFORMS.map((p) => [p, [...apps[p]]]))),
  )

  // Sealed with the session_key of the user of `platform` (else of `appid`'s platform, else
  // WeChat's); the watermark names `appid` as given, so a test can make a wrong one.
  app.post('/__emulator/user-data', async (c) => {
    const { openid, data, appid, platform } = await body(c.req.raw)
    const chosen = target(c, undefined, platform ?? platformOf(appid))
    if (chosen instanceof Response) return chosen
    const user = typeof openid === 'string' ? await getUser(openid, chosen.platform) : undefined
    if (!user) return c.json({ error: 'no such user: log in first' }, 404)
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      return c.json({ error: 'data: a JSON object' }, 400)
    }
    const watermark = { timestamp: now(), appid: typeof appid === 'string' ? appid : chosen.appId }
    return c.json(await sealUserData(user.sessionKey, data, watermark))
  })

  app.post('/__emulator/phone-code', async (c) => {
    const { openid, phoneNumber, age } = await body(c.req.raw)
    const user = typeof openid === 'string' ? await getUser(openid) : undefined
    if (!user) return c.json({ error: 'no such user: log in first' }, 404)
    if (typeof phoneNumber !== 'string' || !PHONE.test(phoneNumber)) {
      return c.json({ error: 'phoneNumber: 5 to 20 digits, optionally after +' }, 400)
    }
    const code = newCode()
    const issuedAt = now() - (typeof age === 'number' ? age : 0)
    await storage.put(`phone:${code}`, {
      openid: user.openid,
      phoneNumber,
      issuedAt,
      used: false,
    } satisfies PhoneCode)
    return c.json({ code })
  })

  const tokenStats = async () => ({
    stableTokenCalls: (await storage.get<number>('stableTokenCalls')) ?? 0,
  })

  app.post('/__emulator/access-token', async (c) => {
    const { invalidate, expire, lifetime } = await body(c.req.raw)
    for (const appid of appIds) {
      const state = await storage.get<AccessTokenState>(`accessToken:${appid}`)
      if (!state) continue
      if (invalidate === true) state.current = `emu_${newCode()}`
      if (expire === true) state.expired = true
      await storage.put(`accessToken:${appid}`, state)
    }
    if (typeof lifetime === 'number') await storage.put('accessTokenLifetime', lifetime)
    if (lifetime === null) await storage.delete('accessTokenLifetime')
    return c.json(await tokenStats())
  })

  app.get('/__emulator/access-token', async (c) => c.json(await tokenStats()))

  // The paid phone-number quota: `{"exhausted": true}` makes getuserphonenumber answer 1400001.
  app.post('/__emulator/phone-quota', async (c) => {
    const { exhausted } = await body(c.req.raw)
    await storage.put('phoneQuotaExhausted', exhausted === true)
    return c.json({ exhausted: exhausted === true })
  })

  // A login code for the app `appId` names (or the first of `platform`); Douyin's comes
  // with an anonymousCode, as tt.login gives both.
  app.post('/__emulator/code', async (c) => {
    const { openid, unionid, age, rotateSessionKey, appId, platform } = await body(c.req.raw)
    if (typeof openid !== 'string' || !OPENID.test(openid)) {
      return c.json({ error: 'openid: 1 to 64 letters, digits, _ or -' }, 400)
    }
    const chosen = target(c, appId, platform)
    if (chosen instanceof Response) return chosen
    const user = await ensureUser(openid, chosen.platform)
    if (typeof unionid === 'string') user.unionid = unionid
    if (rotateSessionKey === true) user.sessionKey = newSessionKey()
    await putUser(user)
    const issuedAt = now() - (typeof age === 'number' ? age : 0)
    const issued: IssuedCode = { openid, appId: chosen.appId, issuedAt, used: false }
    const code = newCode()
    await storage.put(`code:${code}`, issued)
    if (chosen.platform !== 'douyin') return c.json({ code })
    const anonymousCode = newCode()
    await storage.put(`acode:${anonymousCode}`, issued)
    return c.json({ code, anonymousCode })
  })

  app.post('/__emulator/users/:openid', async (c) => {
    const openid = c.req.param('openid')
    if (!OPENID.test(openid)) return c.json({ error: 'bad openid' }, 400)
    const { blocked, unionid, fault, times, hangMs, platform } = await body(c.req.raw)
    const of = userPlatform(c, platform)
    if (of instanceof Response) return of
    const user = await ensureUser(openid, of)
    if (typeof blocked === 'boolean') user.blocked = blocked
    if (typeof unionid === 'string') user.unionid = unionid
    if (unionid === null) delete user.unionid
    if (typeof fault === 'string' && FAULTS.includes(fault as Fault)) {
      user.fault = {
        mode: fault as Fault,
        times: typeof times === 'number' ? times : null,
        hangMs: typeof hangMs === 'number' ? hangMs : DEFAULT_HANG_MS,
      }
    }
    if (fault === null || fault === 'none') delete user.fault
    await putUser(user)
    const { sessionKey: _secret, ...visible } = user
    return c.json(visible)
  })

  app.post('/__emulator/users/:openid/rotate-session-key', async (c) => {
    const of = userPlatform(c)
    if (of instanceof Response) return of
    const user = await getUser(c.req.param('openid'), of)
    if (!user) return c.json({ error: 'no such user' }, 404)
    user.sessionKey = newSessionKey()
    await putUser(user)
    return c.json({ ok: true })
  })

  app.get('/__emulator/users/:openid', async (c) => {
    const of = userPlatform(c)
    if (of instanceof Response) return of
    const user = await getUser(c.req.param('openid'), of)
    if (!user) return c.json({ error: 'no such user' }, 404)
    const { sessionKey: _secret, ...visible } = user
    return c.json(visible)
  })

  // A message push as WeChat would send it to /wechat/events, signed (and
  // encrypted) with the Token and EncodingAESKey the Worker is configured with.
  app.post('/__emulator/push', async (c) => {
    const token = env.WECHAT_EVENT_TOKEN
    if (!token) return c.json({ error: 'WECHAT_EVENT_TOKEN is not set' }, 409)
    const input = await body(c.req.raw)
    const { openid, revokeInfo, createTime, age } = input
    const event = input.event ?? 'user_authorization_revoke'
    const format = input.format ?? 'json'
    const mode = input.mode ?? 'plain'
    const appId = input.appId ?? (appIds.values().next().value as string)
    if (typeof openid !== 'string' || !OPENID.test(openid)) {
      return c.json({ error: 'openid: 1 to 64 letters, digits, _ or -' }, 400)
    }
    if (typeof event !== 'string' || !EVENT_NAME.test(event)) {
      return c.json({ error: 'event: a WeChat event name' }, 400)
    }
    if (format !== 'json' && format !== 'xml') return c.json({ error: 'format: json or xml' }, 400)
    if (mode !== 'plain' && mode !== 'compatible' && mode !== 'safe') {
      return c.json({ error: 'mode: plain, compatible or safe' }, 400)
    }
    if (typeof appId !== 'string' || !/^wx\w{1,40}$/.test(appId)) {
      return c.json({ error: 'appId: an AppID' }, 400)
    }
    if (mode !== 'plain' && !env.WECHAT_EVENT_AES_KEY) {
      return c.json({ error: 'WECHAT_EVENT_AES_KEY is not set' }, 409)
    }
    const timestamp = now() - (typeof age === 'number' ? age : 0)
    const fields: Record<string, string | number> = {
      ToUserName: PUSH_TO,
      FromUserName: PUSH_FROM,
      CreateTime: typeof createTime === 'number' ? createTime : timestamp,
      MsgType: 'event',
      Event: event,
      OpenID: openid,
      AppID: appId,
      ...(typeof revokeInfo === 'string' ? { RevokeInfo: revokeInfo } : {}),
    }
    const settings = {
      token,
      ...(env.WECHAT_EVENT_AES_KEY ? { aesKey: env.WECHAT_EVENT_AES_KEY } : {}),
    }
    return c.json(
      await buildPush(settings, {
        fields,
        appId,
        format: format as PushFormat,
        mode: mode as PushMode,
        timestamp,
      }),
    )
  })

  app.notFound((c) =>
    wxError(404, `emulator: no route ${c.req.method} ${new URL(c.req.url).pathname}`),
  )
}
