import { BODY_ERRORS, type DocSchema, type RouteDoc } from '../openapi'
import { LoginBody } from './auth'
import { SessionPatchBody } from './me'
import { DecryptBody, PhoneBody } from './wechat-data'

const user: DocSchema = {
  type: 'object',
  description: 'What findOrCreateUser / claimsToUser return; by default { id, openid, unionid? }.',
  required: ['id'],
  properties: { id: { type: 'string' }, openid: { type: 'string' }, unionid: { type: 'string' } },
  additionalProperties: true,
}
const token: DocSchema = {
  type: 'object',
  required: ['token', 'tokenType', 'expiresAt', 'expiresIn', 'user'],
  properties: {
    token: { type: 'string', description: 'Send as `Authorization: JWT <token>`.' },
    tokenType: { const: 'JWT' },
    expiresAt: { type: 'string', format: 'date-time' },
    expiresIn: {
      type: 'integer',
      minimum: 0,
      description:
        'Seconds from this answer until the token expires: a client counts it on its own clock rather than comparing its clock with expiresAt.',
    },
    user,
  },
}
const ok: DocSchema = { type: 'object', required: ['ok'], properties: { ok: { const: true } } }
const data: DocSchema = { type: 'object', additionalProperties: true, description: 'Session data.' }
const device: DocSchema = {
  type: 'object',
  properties: Object.fromEntries(
    ['platform', 'system', 'model', 'brand', 'version', 'userAgent'].map((k) => [
      k,
      { type: 'string' },
    ]),
  ),
}
const session: DocSchema = {
  type: 'object',
  required: ['id', 'current', 'createdAt', 'refreshedAt', 'expiresAt', 'device'],
  properties: {
    id: { type: 'string', description: 'Public id; not the session id inside the token.' },
    current: { type: 'boolean', description: 'The session of this request.' },
    createdAt: { type: 'string', format: 'date-time' },
    refreshedAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    device,
  },
}

/** What any call to WeChat can fail with. */
const WECHAT_CALL_ERRORS = [
  'WECHAT_UNAVAILABLE',
  'WECHAT_TIMEOUT',
  'WECHAT_BAD_RESPONSE',
  'WECHAT_ERROR',
  'WECHAT_CREDENTIALS_INVALID',
] as const

/** The query of WeChat's URL check and pushes. */
const pushQuery = (
  extra: NonNullable<RouteDoc['parameters']> = [],
): NonNullable<RouteDoc['parameters']> => [
  {
    name: 'signature',
    in: 'query',
    required: true,
    description: 'hex sha1 of the sorted concatenation of Token, timestamp and nonce.',
    schema: { type: 'string', pattern: '^[0-9a-f]{40}$' },
  },
  {
    name: 'timestamp',
    in: 'query',
    required: true,
    description: 'Unix seconds; more than 5 minutes from the server clock is refused.',
    schema: { type: 'string', pattern: '^[0-9]{1,12}$' },
  },
  {
    name: 'nonce',
    in: 'query',
    required: true,
    description: 'WeChat’s nonce.',
    schema: { type: 'string' },
  },
  ...extra,
]
const pushFields: DocSchema = {
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
const PUSH_ERRORS = ['NOT_FOUND', 'WECHAT_EVENT_SIGNATURE_INVALID'] as const

/** Every route of `createApp()`, for the OpenAPI document and the docs page. */
export const ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'get',
    path: '/healthz',
    tag: 'meta',
    summary: 'Liveness',
    auth: false,
    response: ok,
    errors: [],
  },
  {
    method: 'get',
    path: '/wechat/events',
    tag: 'wechat',
    summary: 'WeChat’s URL check of the message push settings',
    description:
      'Answers echostr as it is (text/plain) when the signature is right. 404 without WECHAT_EVENT_TOKEN.',
    auth: false,
    parameters: pushQuery([
      {
        name: 'echostr',
        in: 'query',
        required: true,
        description: 'Echoed back.',
        schema: { type: 'string', maxLength: 256 },
      },
    ]),
    response: { type: 'string', description: 'echostr' },
    responseType: 'text/plain',
    errors: [...PUSH_ERRORS, 'INVALID_REQUEST'],
  },
  {
    method: 'post',
    path: '/wechat/events',
    tag: 'wechat',
    summary: 'An authorization event pushed by WeChat',
    description:
      'JSON or XML, plain or encrypted (encrypt_type=aes with msg_signature). A revoke or account cancellation ends all of the user’s sessions and deletes their identity, then calls its hook; each push is handled once. Answers success (text/plain). 404 without WECHAT_EVENT_TOKEN.',
    auth: false,
    parameters: pushQuery([
      {
        name: 'encrypt_type',
        in: 'query',
        description: '`aes` in safe and compatible mode.',
        schema: { enum: ['aes', 'raw'] },
      },
      {
        name: 'msg_signature',
        in: 'query',
        description:
          'Encrypted pushes: hex sha1 of the sorted Token, timestamp, nonce and Encrypt.',
        schema: { type: 'string', pattern: '^[0-9a-f]{40}$' },
      },
    ]),
    content: { 'application/json': pushFields, 'text/xml': pushFields },
    response: { const: 'success' },
    responseType: 'text/plain',
    errors: [...PUSH_ERRORS, ...BODY_ERRORS, 'UNKNOWN_APP', 'STORAGE_UNAVAILABLE'],
  },
  {
    method: 'post',
    path: '/auth/login',
    tag: 'auth',
    summary: 'Log in with a wx.login() code',
    description:
      'Exchanges the code at WeChat (code2Session), makes a session (a device) and answers with a token.',
    auth: false,
    body: LoginBody,
    response: token,
    errors: [
      ...BODY_ERRORS,
      'UNKNOWN_APP',
      'RATE_LIMITED',
      'WECHAT_CODE_INVALID',
      'WECHAT_CODE_USED',
      'WECHAT_USER_BLOCKED',
      'WECHAT_RATE_LIMITED',
      'WECHAT_UNAVAILABLE',
      'WECHAT_TIMEOUT',
      'WECHAT_BAD_RESPONSE',
      'WECHAT_ERROR',
      'WECHAT_CREDENTIALS_INVALID',
      'WECHAT_SIGNATURE_INVALID',
      'WECHAT_DECRYPT_FAILED',
      'STORAGE_UNAVAILABLE',
    ],
  },
  {
    method: 'post',
    path: '/auth/decrypt',
    tag: 'wechat',
    summary: 'Decrypt encryptedData from the mini program',
    description:
      'With the newest session_key of the user. When that key is no longer valid at WeChat the answer is 409 WECHAT_SESSION_KEY_STALE: call wx.login, log in again and resend.',
    auth: true,
    body: DecryptBody,
    response: {
      type: 'object',
      required: ['data'],
      properties: {
        data: { type: 'object', description: 'The decrypted object without its watermark.' },
      },
    },
    errors: [
      ...BODY_ERRORS,
      'RATE_LIMITED',
      'UNKNOWN_APP',
      'WECHAT_DECRYPT_FAILED',
      'WECHAT_SESSION_KEY_STALE',
      'WECHAT_ACCESS_TOKEN_INVALID',
      ...WECHAT_CALL_ERRORS,
    ],
  },
  {
    method: 'post',
    path: '/auth/phone',
    tag: 'wechat',
    summary: 'The phone number behind a phone-number button code',
    auth: true,
    body: PhoneBody,
    response: {
      type: 'object',
      required: ['phone'],
      properties: {
        phone: {
          type: 'object',
          required: ['phoneNumber', 'purePhoneNumber', 'countryCode'],
          properties: {
            phoneNumber: { type: 'string' },
            purePhoneNumber: { type: 'string' },
            countryCode: { type: 'string' },
          },
        },
      },
    },
    errors: [
      ...BODY_ERRORS,
      'RATE_LIMITED',
      'UNKNOWN_APP',
      'WECHAT_PHONE_CODE_INVALID',
      'WECHAT_ACCESS_TOKEN_INVALID',
      ...WECHAT_CALL_ERRORS,
    ],
  },
  {
    method: 'post',
    path: '/auth/refresh',
    tag: 'auth',
    summary: 'A new token for the same session',
    description:
      'Older tokens of the session stop working; past half its lifetime the session is extended.',
    auth: true,
    response: token,
    errors: [],
  },
  {
    method: 'post',
    path: '/auth/logout',
    tag: 'auth',
    summary: 'End this session',
    auth: true,
    response: ok,
    errors: [],
  },
  {
    method: 'post',
    path: '/auth/logout-all',
    tag: 'devices',
    summary: 'End every session of the user',
    auth: true,
    response: {
      type: 'object',
      required: ['ok', 'loggedOut'],
      properties: { ok: { const: true }, loggedOut: { type: 'integer' } },
    },
    errors: [],
  },
  {
    method: 'get',
    path: '/auth/sessions',
    tag: 'devices',
    summary: 'The user’s sessions (devices), newest first',
    auth: true,
    response: {
      type: 'object',
      required: ['sessions'],
      properties: { sessions: { type: 'array', items: session } },
    },
    errors: [],
  },
  {
    method: 'delete',
    path: '/auth/sessions/{id}',
    tag: 'devices',
    summary: 'End one session (log a device out)',
    auth: true,
    parameters: [
      {
        name: 'id',
        description: 'The public id from GET /auth/sessions.',
        schema: { type: 'string' },
      },
    ],
    response: ok,
    errors: ['SESSION_NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/me',
    tag: 'example',
    summary: 'The user and the session data (an example protected route)',
    auth: true,
    response: {
      type: 'object',
      required: ['user', 'session'],
      properties: { user, session: data },
    },
    errors: [],
  },
  {
    method: 'patch',
    path: '/me/session',
    tag: 'example',
    summary: 'Change session data (an example of a session write)',
    auth: true,
    body: SessionPatchBody,
    response: { type: 'object', required: ['session'], properties: { session: data } },
    errors: BODY_ERRORS,
  },
]
