import type { Hono } from 'hono'
import * as v from 'valibot'
import { WxaAuthError } from '../../errors'
import { limitBody } from '../../middleware/body-limit'
import { describe } from '../../openapi/describe'
import type { PlatformRoutesContext } from '../platform'
import type { PushSettings } from './push-settings'
import { once, openPush, urlCheck } from './receive'

/** `GET /wechat/events`: the echostr, as it came. */
export const EchoAnswer = v.pipe(v.string(), v.description('echostr'))

/** `POST /wechat/events`: what WeChat expects back. */
export const EventAnswer = v.literal('success')

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
        'user_authorization_revoke ends the user’s sessions in that app; user_authorization_cancellation forgets the user in every app; user_info_modified calls its hook; others are acknowledged and ignored.',
    },
    OpenID: { type: 'string' },
    AppID: { type: 'string' },
    CreateTime: { type: ['integer', 'string'] },
    RevokeInfo: { type: 'string' },
    Encrypt: { type: 'string', description: 'Safe and compatible mode: base64 of AES-256-CBC.' },
  },
}

/** The push settings of a request's configuration; 404 without `WECHAT_EVENT_TOKEN`. */
function settingsOf(settings: PushSettings | null): PushSettings {
  if (!settings) throw new WxaAuthError('NOT_FOUND')
  return settings
}

/**
 * WeChat's message push (消息推送) for the authorization events of mini
 * program users: `GET /events` answers WeChat's URL check and `POST /events`
 * takes pushes, JSON or XML, in plain mode (without an EncodingAESKey) or
 * safe and compatible mode. What each event asks is `EVENT_TABLE`; the
 * actions are the context's. Without `WECHAT_EVENT_TOKEN` both routes answer
 * 404. Served before the session middleware: pushes carry no token. @internal
 */
export function wechatRoutes(routes: Hono, context: PlatformRoutesContext<PushSettings>): void {
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
      const { settings, now } = context.request(c)
      const echostr = await urlCheck(settingsOf(settings), c.req.query(), now)
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
        'JSON or XML; safe or compatible mode (encrypt_type=aes with msg_signature) when WECHAT_EVENT_AES_KEY is set, else plain. A signed query carries one body; each event is acted on once, as its row of the event table says: claimed before it is acted on, so that a delivery overlapping another gets 503 EVENT_IN_PROGRESS and WeChat retries it. Answers success (text/plain). 404 without WECHAT_EVENT_TOKEN.',
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
        'EVENT_IN_PROGRESS',
        'STORAGE_UNAVAILABLE',
        'STORAGE_OUTCOME_UNKNOWN',
      ],
    }),
    limitBody(),
    async (c) => {
      const { apps, settings, now } = context.request(c)
      const push = settingsOf(settings)
      const opened = await openPush(push, apps, {
        query: c.req.query(),
        body: await c.req.text(),
        now,
      })
      if (opened.kind === 'other') return c.text('success')
      return c.text(
        await once(push, opened.id, now, () =>
          opened.kind === 'user'
            ? context.act(c, opened.action)
            : context.imageChecked(c, opened.verdict),
        ),
      )
    },
  )
}
