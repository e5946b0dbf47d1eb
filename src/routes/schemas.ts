import * as v from 'valibot'
import { PLATFORM_NAMES, PLATFORMS } from '../platforms/index'
import { codeField as code } from '../platforms/login-kind'
import type { PlatformDefinition } from '../platforms/platform'

/**
 * The request and response schemas of every route, in valibot (a Standard
 * Schema library). The same objects validate the requests, type the
 * handlers and make the OpenAPI document (`describeRoute` + `resolver`).
 */

/** Generous bounds: real encryptedData is a few hundred characters; bodies are capped anyway. */
const MAX_ENCRYPTED_LENGTH = 12 * 1024 // characters
const MAX_RAW_DATA_LENGTH = 8 * 1024 // characters
const HINT_LENGTH = 64 // characters

const text = (min: number, max: number, description: string) =>
  v.pipe(v.string(), v.minLength(min), v.maxLength(max), v.description(description))
const hint = v.optional(v.pipe(v.string(), v.maxLength(HINT_LENGTH)))

/** What `wx.getUserInfo` and friends give the mini program, encrypted. */
const encryptedData = text(
  1,
  MAX_ENCRYPTED_LENGTH,
  'encryptedData from the mini program, base64 (standard alphabet, padded).',
)
const iv = text(1, 64, 'iv from the mini program, base64 of 16 bytes.')

/** `POST /auth/login` body: the shared fields and the login-kind fields of every platform served. */
export const loginBody = (platforms: readonly PlatformDefinition[]) =>
  v.object({
    code: v.optional(
      code(
        'The code from the platform login (wx.login, tt.login, qq.login); single use, valid for a few minutes. Required, except with CLOUD_HOSTING=wechat: without it the user is the one WeChat Cloud Hosting’s X-WX-* headers name.',
      ),
    ),
    // Each platform's own fields (Douyin's anonymousCode): read by its login kind.
    ...(Object.assign(
      {},
      ...platforms.flatMap((platform) => Object.values(platform.logins).map((kind) => kind.input)),
    ) as Record<never, never>),
    phoneCode: v.optional(
      code(
        'A code from the phone-number button (bindgetphonenumber): log in and get the number in one request.',
      ),
    ),
    appId: v.optional(
      text(
        1,
        64,
        'The mini program logging in (and so its platform), when this server serves several. Default: the first.',
      ),
    ),
    device: v.optional(
      v.pipe(
        v.strictObject({ platform: hint, system: hint, model: hint, brand: hint, version: hint }),
        v.description(
          'Coarse device hints for the device list (wx.getDeviceInfo / getAppBaseInfo).',
        ),
      ),
    ),
    rawData: v.optional(
      text(1, MAX_RAW_DATA_LENGTH, 'rawData from wx.getUserInfo; needs signature.'),
    ),
    signature: v.optional(text(1, 64, 'hex sha1(rawData + session_key) from wx.getUserInfo.')),
    encryptedData: v.optional(encryptedData),
    iv: v.optional(iv),
  })

/** `POST /auth/login` body, for the registry's platforms. */
export const LoginBody = loginBody(PLATFORMS)

/** `POST /auth/decrypt` body; other fields (rawData, signature) are ignored. */
export const DecryptBody = v.object({
  encryptedData,
  iv,
  code: v.optional(
    code(
      'A fresh code from wx.login() of the same user: its session_key decrypts, and is kept. Needed after a Cloud Hosting login (LOGIN_CODE_REQUIRED).',
    ),
  ),
})

/** `POST /auth/phone` body. */
export const PhoneBody = v.object({
  code: v.optional(
    code('The code from the phone-number button (bindgetphonenumber); single use. Not on Alipay.'),
  ),
  response: v.optional(
    text(1, 4096, 'Alipay: the response of my.getPhoneNumber (encrypted), with its sign.'),
  ),
  sign: v.optional(text(1, 1024, 'Alipay: the sign of my.getPhoneNumber, beside response.')),
})

/** `DELETE /auth/account` body. */
export const AccountDeletionBody = v.object({
  code: v.optional(
    code(
      'A fresh code from wx.login() of the same user: confirms it is them. Required, except with CLOUD_HOSTING=wechat, where WeChat Cloud Hosting’s X-WX-* headers naming the same user confirm it.',
    ),
  ),
  state: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(128),
      v.description(
        'With a code of an Official Account page or a website: the state WeChat passed back with it.',
      ),
    ),
  ),
})

/** `PATCH /me/session` body: keys to set; a null value deletes its key. */
export const SessionPatchBody = v.pipe(
  v.looseObject({}),
  v.description('Keys to merge into the session data; null deletes a key.'),
)

const isoTime = v.pipe(v.string(), v.isoTimestamp())

const User = v.pipe(
  v.looseObject({
    id: v.string(),
    platform: v.optional(v.picklist(PLATFORM_NAMES)),
    openid: v.optional(v.string()),
    unionid: v.optional(v.string()),
  }),
  v.description(
    'What findOrCreateUser / claimsToUser return; by default { id, platform, openid, unionid? }.',
  ),
)

const Phone = v.object({
  phoneNumber: v.string(),
  purePhoneNumber: v.string(),
  countryCode: v.string(),
})

/** The body of `POST /auth/refresh`. */
export const RefreshBody = v.object({
  refreshToken: v.pipe(
    v.string(),
    v.regex(/^[\w-]{100,400}$/),
    v.description('The refreshToken of the last login or refresh.'),
  ),
})

/** The answer of `POST /auth/refresh` (and the core of the login's). */
export const TokenResponse = v.object({
  token: v.pipe(
    v.string(),
    v.description(
      'The access token: send as `Authorization: JWT <token>`. It lives ACCESS_TOKEN_TTL (2 hours), never past the session, and never yields a new token.',
    ),
  ),
  tokenType: v.literal('JWT'),
  expiresAt: isoTime,
  expiresIn: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(0),
    v.description(
      'Seconds from this answer until the access token expires: a client counts it on its own clock rather than comparing its clock with expiresAt.',
    ),
  ),
  refreshToken: v.pipe(
    v.string(),
    v.description(
      'Opaque; send it only to POST /auth/refresh, in the body. Each refresh replaces it: keep the newest.',
    ),
  ),
  refreshExpiresAt: isoTime,
  user: User,
})

export const LoginResponse = v.object({
  ...TokenResponse.entries,
  userInfo: v.optional(
    v.pipe(
      v.looseObject({}),
      v.description('The verified profile, when the login carried user info.'),
    ),
  ),
  phone: v.optional(v.pipe(Phone, v.description('When the login carried a phoneCode.'))),
})

export const PhoneResponse = v.object({ phone: Phone })

export const DecryptResponse = v.object({
  data: v.pipe(v.looseObject({}), v.description('The decrypted object without its watermark.')),
})

export const Ok = v.object({ ok: v.literal(true) })

export const LogoutAllResponse = v.object({ ok: v.literal(true), loggedOut: v.number() })

export const SessionSummary = v.object({
  id: v.pipe(v.string(), v.description('Public id; not the session id inside the token.')),
  current: v.pipe(v.boolean(), v.description('The session of this request.')),
  createdAt: isoTime,
  refreshedAt: isoTime,
  expiresAt: isoTime,
  device: v.object({
    platform: v.optional(v.string()),
    system: v.optional(v.string()),
    model: v.optional(v.string()),
    brand: v.optional(v.string()),
    version: v.optional(v.string()),
    userAgent: v.optional(v.string()),
    door: v.optional(
      v.pipe(
        v.string(),
        v.description(
          'oa (an Official Account page), web (a website) or app; absent: a mini program.',
        ),
      ),
    ),
  }),
})

export const SessionsResponse = v.object({ sessions: v.array(SessionSummary) })

/** One identity of a user (never its session_key). */
export const Identity = v.object({
  platform: v.pipe(v.string(), v.description('The platform: wechat, douyin, qq, alipay, …')),
  appId: v.string(),
  openid: v.string(),
  unionid: v.optional(v.string()),
})

/** An operator's ban. */
export const BanState = v.object({
  reason: v.string(),
  until: v.optional(v.pipe(v.number(), v.description('Unix seconds: it lifts itself then.'))),
  at: v.pipe(v.number(), v.description('Unix seconds: when it was set.')),
  by: v.pipe(v.string(), v.description('`operator:<kid>`.')),
})

export const ProfileView = v.object({
  nickname: v.nullable(v.string()),
  avatarUrl: v.nullable(v.string()),
})

/** `GET /auth/account/export`: what wxa-auth keeps of the user. */
export const AccountExportResponse = v.object({
  uid: v.string(),
  identities: v.array(Identity),
  devices: v.array(SessionSummary),
  profile: ProfileView,
  session: v.pipe(v.looseObject({}), v.description('This session’s data.')),
  ban: v.nullable(BanState),
  audit: v.array(
    v.object({
      at: v.pipe(v.number(), v.description('Unix milliseconds.')),
      type: v.string(),
      actor: v.string(),
      detail: v.optional(
        v.pipe(
          v.looseObject({}),
          v.description('Strings, numbers and booleans the type documents.'),
        ),
      ),
    }),
  ),
  exportedAt: v.pipe(v.string(), v.isoTimestamp()),
})

const SessionData = v.pipe(v.looseObject({}), v.description('Session data.'))

export const MeResponse = v.object({ user: User, session: SessionData })

export const SessionResponse = v.object({ session: SessionData })

export const HealthResponse = v.object({ ok: v.literal(true) })

/** Redis's durability settings as read at start (Node only; `unknown` where CONFIG is refused). */
const RedisSettings = v.optional(
  v.pipe(
    v.object({ appendonly: v.string(), appendfsync: v.string(), 'maxmemory-policy': v.string() }),
    v.description(
      'Node: these settings of Redis as read at start ("unknown" where CONFIG GET is refused).',
    ),
  ),
)

/** The audit log's health in this isolate or process (with an audit log only). */
const AuditHealth = v.optional(
  v.pipe(
    v.object({
      lost: v.pipe(
        v.number(),
        v.description(
          'Audit records this isolate or process could not write since it started (each request was still answered).',
        ),
      ),
    }),
    v.description('With an audit log (D1 on Workers, Redis on Node).'),
  ),
)

/** `GET /readyz` when ready. */
export const ReadyResponse = v.object({
  ok: v.literal(true),
  redis: RedisSettings,
  audit: AuditHealth,
})

/** `GET /readyz` when the configuration is not complete or Redis does not answer: what is at fault, by name only. */
export const NotReadyResponse = v.object({
  ok: v.literal(false),
  failing: v.pipe(
    v.string(),
    v.description(
      'The variable, binding or wrangler.toml key at fault (REDIS_URL while Redis does not answer a PING); never its value.',
    ),
  ),
  redis: RedisSettings,
  audit: AuditHealth,
})

/** `PUT /auth/profile` as JSON: the nickname alone. */
export const ProfileBody = v.object({
  nickname: text(
    1,
    256,
    'What the user typed into <input type="nickname">; 1 to 32 characters once trimmed.',
  ),
})

export const ProfileResponse = v.object({
  profile: v.object({
    nickname: v.pipe(v.nullable(v.string()), v.description('What the user filled in, checked.')),
    avatarUrl: v.pipe(
      v.nullable(v.string()),
      v.description('Where the app serves the avatar: unguessable, gone once deleted.'),
    ),
  }),
})

/** `GET /auth/avatars/{key}`: the image's bytes. */
export const AvatarAnswer = v.pipe(v.string(), v.description('The image (PNG, JPEG or WebP).'))
