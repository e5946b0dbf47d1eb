/**
 * The KV keys of wxa-auth, all in one namespace (binding `SESSIONS`). The
 * README's storage schema lists them. Key parts are URI-encoded.
 */
export const SESSION_PREFIX = 'session:'
export const IDENTITY_PREFIX = 'identity:'
export const ACCESS_TOKEN_PREFIX = 'wx:access_token:'
export const UNIONID_PREFIX = 'unionid:'

/** KV refuses an `expirationTtl` below 60 seconds. */
export const MIN_TTL = 60 // seconds

/** `session:<uid>:<id>`, where `id` is the session's public id, sha256(sid). */
export const sessionRecordKey = (uid: string, id: string) =>
  `${SESSION_PREFIX}${encodeURIComponent(uid)}:${id}`

/**
 * What a platform adds to its keys and to the hashes of its default user ids:
 * nothing for WeChat (its keys and ids are those of 0.2), `<platform>:` for
 * the others. Encoded parts never hold a `:`, so the two forms cannot meet.
 */
export const platformPart = (platform: string) => (platform === 'wechat' ? '' : `${platform}:`)

/** `identity:<appid>:<openid>` (WeChat), `identity:<platform>:<appid>:<openid>` (Douyin, QQ). */
export const identityKey = (appId: string, openid: string, platform: string) =>
  `${IDENTITY_PREFIX}${platformPart(platform)}${encodeURIComponent(appId)}:${encodeURIComponent(openid)}`

/**
 * `unionid:<unionid>` (WeChat), `unionid:<platform>:<unionid>` (Douyin, QQ):
 * the user a unionid is linked to (`IDENTITY=unionid`). A unionid links the
 * apps of one platform only.
 */
export const unionidKey = (unionid: string, platform: string) =>
  `${UNIONID_PREFIX}${platformPart(platform)}${encodeURIComponent(unionid)}`

/** `wx:access_token:<appid>`. */
export const accessTokenKey = (appId: string) =>
  `${ACCESS_TOKEN_PREFIX}${encodeURIComponent(appId)}`

/** The `expirationTtl` that makes a KV value live until `expiresAt` (unix seconds), at least {@link MIN_TTL}. */
export const ttlUntil = (expiresAt: number, now = Date.now() / 1000) =>
  Math.max(MIN_TTL, Math.ceil(expiresAt - now))

export const MEDIA_CHECK_PREFIX = 'wx:media_check:'

/** `wx:media_check:<appid>:<trace id>`: whose avatar an asynchronous image check is about. */
export const mediaCheckKey = (appId: string, trace: string) =>
  `${MEDIA_CHECK_PREFIX}${encodeURIComponent(appId)}:${encodeURIComponent(trace)}`
