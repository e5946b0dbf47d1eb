import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { WxaConfig, WxaEventsConfig } from '../config'
import { resolveOptions, type WxaAuthOptions } from '../config'
import { WxaAuthError } from '../errors'
import { describe } from '../openapi/describe'
import { type DefaultUser, defaultUserId } from '../user/hooks'
import {
  type AuthorizationEvent,
  authorizationEvent,
  type PushFields,
  readPushBody,
  textField,
} from '../wechat/events'
import { decryptPush, verifyPushSignature } from '../wechat/push'
import { limitBody } from './auth'
import { EchoAnswer, EventAnswer } from './schemas'

/** The query every push and URL check carries. */
const pushQuery = [
  {
    name: 'signature',
    in: 'query' as const,
    required: true,
    description: 'hex sha1 of the sorted concatenation of Token, timestamp and nonce.',
    schema: { type: 'string', pattern: '^[0-9a-f]{40}$' },
  },
  {
    name: 'timestamp',
    in: 'query' as const,
    required: true,
    description: 'Unix seconds; more than 5 minutes from the server clock is refused.',
    schema: { type: 'string', pattern: '^[0-9]{1,12}$' },
  },
  { name: 'nonce', in: 'query' as const, required: true, description: 'WeChat’s nonce.' },
]

/** What a push carries, in JSON or XML. */
const pushFields = {
  type: 'object',
  description:
    'WeChat’s message: ToUserName, FromUserName (WeChat’s push account), CreateTime, MsgType "event", Event, OpenID (the user), AppID, RevokeInfo?; or, encrypted, {ToUserName, Encrypt}.',
  properties: {
    MsgType: { type: 'string' },
    Event: {
      type: 'string',
      description:
        'user_authorization_revoke and user_authorization_cancellation end the user’s sessions; user_info_modified calls its hook; others are acknowledged and ignored.',
    },
    OpenID: { type: 'string' },
    AppID: { type: 'string' },
    CreateTime: { type: ['integer', 'string'] },
    RevokeInfo: { type: 'string' },
    Encrypt: { type: 'string', description: 'Safe and compatible mode: base64 of AES-256-CBC.' },
  },
}

/** How far a push's `timestamp` may be from our clock, either way. */
export const DEFAULT_EVENT_TOLERANCE = 5 * 60 // 5 minutes, seconds
const MAX_ECHOSTR = 256 // characters
const TIMESTAMP = /^[0-9]{1,12}$/
const NONCE = /^[\w.-]{1,64}$/

/** The one error WeChat sees; which check failed (no Token, no data) rides in `cause` for the log. */
const rejected = (check: string) =>
  new WxaAuthError('WECHAT_EVENT_SIGNATURE_INVALID', undefined, { cause: new Error(check) })

/** The parts of a signed query that name it: the same in plain and safe mode, and in the URL check. */
const queryId = (query: Record<string, string>) => [
  query.timestamp ?? '',
  query.nonce ?? '',
  query.signature ?? '',
]

/**
 * Claims the signed query for this body, before anything is done: a query
 * seen with another body (or with the URL check) is a replay. In plain mode
 * the signature covers the query only, so this is what binds it to one body.
 */
async function claimQuery(
  events: WxaEventsConfig,
  query: Record<string, string>,
  body: string,
  now: number,
) {
  if (!(await events.claims.query(queryId(query), `POST\n${body}`, now))) {
    throw rejected('the signed query was already used with another body')
  }
}

/**
 * The query every push and URL check carries, checked: its signature is
 * `signature` (plain) or `msg_signature` over `extra` (encrypted), and its
 * timestamp within {@link DEFAULT_EVENT_TOLERANCE} of `now`.
 */
async function checkSigned(
  token: string,
  query: Record<string, string>,
  now: number,
  encrypted?: { encrypt: string },
): Promise<void> {
  const { timestamp = '', nonce = '' } = query
  const signature = (encrypted ? query.msg_signature : query.signature) ?? ''
  if (!TIMESTAMP.test(timestamp) || !NONCE.test(nonce)) {
    throw rejected('timestamp or nonce missing or malformed')
  }
  const parts = encrypted ? [token, timestamp, nonce, encrypted.encrypt] : [token, timestamp, nonce]
  if (!(await verifyPushSignature(signature, ...parts))) {
    throw rejected(encrypted ? 'msg_signature does not match' : 'signature does not match')
  }
  if (Math.abs(now - Number(timestamp)) > DEFAULT_EVENT_TOLERANCE) {
    throw rejected('timestamp is more than 5 minutes from our clock')
  }
}

/**
 * WeChat's message push (消息推送) for the authorization events of mini
 * program users, as a sub-app: `GET /events` answers WeChat's URL check and
 * `POST /events` takes pushes, JSON or XML, in plain, compatible or safe
 * (encrypted) mode. A revoke or an account cancellation ends all of the user's
 * sessions and deletes their identity; each event goes to its hook. Each push
 * is handled once, however often WeChat retries it. Without
 * `WECHAT_EVENT_TOKEN` both routes answer 404.
 *
 * @example
 * ```ts
 * app.route('/wechat', wechatEventRoutes(options)) // https://<your domain>/wechat/events
 * ```
 */
export function wechatEventRoutes<User extends { id: string } = DefaultUser>(
  options: WxaAuthOptions<User> = {},
) {
  const { config, hooks, now } = resolveOptions(options)
  // With the default user model the uid follows from (appid, openid), even
  // once the identity record has expired.
  const derivedUid = options.findOrCreateUser === undefined
  const routes = new Hono()
  const settings = (c: Context): [WxaConfig, WxaEventsConfig] => {
    const all = config(c)
    if (!all.events) throw new WxaAuthError('NOT_FOUND')
    return [all, all.events]
  }

  // https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
  routes.get(
    '/events',
    describe({
      tag: 'wechat',
      summary: 'WeChat’s URL check of the message push settings',
      description:
        'Answers echostr as it is (text/plain) when the signature is right. 404 without WECHAT_EVENT_TOKEN.',
      auth: false,
      parameters: [
        ...pushQuery,
        {
          name: 'echostr',
          in: 'query',
          required: true,
          description: 'Echoed back.',
          schema: { type: 'string', maxLength: 256 },
        },
      ],
      response: EchoAnswer,
      responseType: 'text/plain',
      errors: ['NOT_FOUND', 'WECHAT_EVENT_SIGNATURE_INVALID', 'INVALID_REQUEST'],
    }),
    async (c) => {
      const [, events] = settings(c)
      const time = now()
      const query = c.req.query()
      await checkSigned(events.token, query, time)
      const echostr = c.req.query('echostr')
      if (!echostr || echostr.length > MAX_ECHOSTR) {
        throw new WxaAuthError('INVALID_REQUEST', 'echostr is missing or too long.')
      }
      // A URL check's query is used up by it: it can never carry a push.
      if (!(await events.claims.query(queryId(query), 'GET', time))) {
        throw rejected('the signed query was already used for a push')
      }
      c.header('Cache-Control', 'no-store')
      c.header('X-Content-Type-Options', 'nosniff')
      return c.text(echostr)
    },
  )

  routes.post(
    '/events',
    describe({
      tag: 'wechat',
      summary: 'An authorization event pushed by WeChat',
      description:
        'JSON or XML, plain or encrypted (encrypt_type=aes with msg_signature). A revoke or account cancellation ends all of the user’s sessions and deletes their identity, then calls its hook; each push is handled once. Answers success (text/plain). 404 without WECHAT_EVENT_TOKEN.',
      auth: false,
      parameters: [
        ...pushQuery,
        {
          name: 'encrypt_type',
          in: 'query',
          required: false,
          description: '`aes` in safe and compatible mode.',
          schema: { enum: ['aes', 'raw'] },
        },
        {
          name: 'msg_signature',
          in: 'query',
          required: false,
          description:
            'Encrypted pushes: hex sha1 of the sorted Token, timestamp, nonce and Encrypt.',
          schema: { type: 'string', pattern: '^[0-9a-f]{40}$' },
        },
      ],
      content: { 'application/json': pushFields, 'text/xml': pushFields },
      response: EventAnswer,
      responseType: 'text/plain',
      errors: [
        'NOT_FOUND',
        'WECHAT_EVENT_SIGNATURE_INVALID',
        'INVALID_JSON',
        'INVALID_REQUEST',
        'PAYLOAD_TOO_LARGE',
        'UNKNOWN_APP',
        'STORAGE_UNAVAILABLE',
        'STORAGE_OUTCOME_UNKNOWN',
      ],
    }),
    limitBody(),
    async (c) => {
      const [all, events] = settings(c)
      const query = c.req.query()
      const time = now()
      const text = await c.req.text()
      // A URL check's query (it carries echostr) never carries a push.
      if (query.echostr !== undefined) throw rejected('a push with the echostr of a URL check')
      // With an EncodingAESKey, safe mode is the only mode: in plain mode the
      // body is not signed, so a plain push proves nothing about its content.
      const safeOnly = (await events.key()) !== null
      if (safeOnly && (query.encrypt_type !== 'aes' || !query.msg_signature)) {
        throw rejected('a plain push, and WECHAT_EVENT_AES_KEY is set (safe mode only)')
      }
      let fields: PushFields
      let sealedFor: string | undefined
      if (query.encrypt_type === 'aes') {
        // Safe mode, and compatible mode (whose plain fields beside Encrypt are ignored).
        const encrypt = textField(readPushBody(text).fields, 'Encrypt')
        if (!encrypt && safeOnly) throw rejected('an encrypted push without Encrypt')
        if (!encrypt)
          throw new WxaAuthError('INVALID_REQUEST', 'The encrypted push has no Encrypt.')
        await checkSigned(events.token, query, time, { encrypt })
        await claimQuery(events, query, text, time)
        const key = await events.key()
        if (!key) {
          throw new WxaAuthError(
            'CONFIG_INVALID',
            'WECHAT_EVENT_AES_KEY is not set, and WeChat sends encrypted pushes (safe or compatible mode).',
          )
        }
        const opened = await decryptPush(encrypt, key, all.apps.keys())
        fields = readPushBody(opened.message).fields
        sealedFor = opened.appId
      } else if (query.encrypt_type === undefined || query.encrypt_type === 'raw') {
        await checkSigned(events.token, query, time)
        await claimQuery(events, query, text, time)
        fields = readPushBody(text).fields
      } else {
        throw new WxaAuthError('INVALID_REQUEST', 'encrypt_type must be aes or absent.')
      }

      const found = authorizationEvent(fields)
      if (!found) return c.text('success')
      if (query.openid !== undefined && query.openid !== found.openid) {
        throw rejected('the openid of the query is not the OpenID of the push')
      }
      const appId = sealedFor ?? found.appId
      if (sealedFor !== undefined && found.appId !== undefined && found.appId !== sealedFor) {
        throw rejected('the AppID field differs from the AppID sealed with it')
      }
      if (!appId || !all.apps.has(appId)) throw new WxaAuthError('UNKNOWN_APP')

      // The event itself, whatever the query: WeChat's retries may come with a new nonce.
      const id = [
        appId,
        found.event,
        found.openid,
        String(found.createTime),
        found.revokeInfo ?? '',
        found.pluginId ?? '',
        found.openPid ?? '',
      ]
      if (await events.claims.handled(id, time)) return c.text('success')

      const { identities, authority, replica, policy } = all
      const identity = await identities.get(appId, found.openid)
      const uid =
        identity?.uid ??
        (derivedUid && all.identity === 'openid' ? await defaultUserId(appId, found.openid) : null)
      let sessionsEnded = 0
      if (uid && found.event !== 'user_info_modified') {
        // A cancellation: the WeChat account is gone, in every app; the user is forgotten
        // (below, once the hook has run). A revoke: this app's authorization, this app's sessions.
        const ended = await authority.endAll(
          uid,
          time,
          found.event === 'user_authorization_cancellation' ? undefined : appId,
        )
        for (const id of ended) replica.ended(uid, id, time + policy.maxAge)
        sessionsEnded = ended.length
      }
      const event: AuthorizationEvent = {
        ...found,
        appId,
        uid,
        sessionsEnded,
        raw: Object.freeze({ ...fields }),
      }
      switch (event.event) {
        case 'user_authorization_revoke':
          await hooks.onAuthorizationRevoked(event as AuthorizationEvent<typeof event.event>, c)
          break
        case 'user_authorization_cancellation':
          await hooks.onAccountCancelled(event as AuthorizationEvent<typeof event.event>, c)
          break
        case 'user_info_modified':
          await hooks.onUserInfoModified(event as AuthorizationEvent<typeof event.event>, c)
          break
      }
      // After the hook: when it throws, WeChat retries and the hook still gets the uid.
      if (found.event === 'user_authorization_cancellation' && uid)
        await authority.forget(uid, time)
      if (found.event !== 'user_info_modified' && identity) {
        await identities.delete(appId, found.openid)
      }
      await events.claims.markHandled(id, time)
      return c.text('success')
    },
  )

  return routes
}
