// The configuration wxa-auth reads, as types: the variables every runtime
// has (wrangler.toml `[vars]` and secrets on Workers, `process.env` on Node),
// and the Worker's bindings. A leaf: it imports nothing.

/** The configuration variables as a runtime hands them over (wrangler.toml `[vars]` and secrets, `process.env`). */
export type Variables = Readonly<Record<string, unknown>>

/** The variables wxa-auth reads, with the same meaning on every runtime. All optional strings. */
export interface WxaConfigVars {
  /** `edge` (default): reads from the replica, the authority on a miss; `strict`: every request asks the authority. */
  SESSION_CONSISTENCY?: string
  /** `openid` (default): the default user is per (appid, openid); `unionid`: per unionid when there is one. */
  IDENTITY?: string
  /**
   * The WeChat AppID; several, separated by spaces, for several mini programs
   * (the first is the default). Not needed when another platform's app is configured.
   */
  WECHAT_APP_ID?: string
  /** Secret: the AppSecret of the one app. */
  WECHAT_APP_SECRET?: string
  /** Secret: `appid:secret appid:secret …`, for several apps. */
  WECHAT_APP_SECRETS?: string
  /** Base URL of the WeChat API (a relay, the emulator): https, or http to localhost only. */
  WECHAT_API_BASE?: string
  /** Milliseconds before a call to WeChat is abandoned. */
  WECHAT_TIMEOUT_MS?: string
  /** The Douyin (tt) AppID (`tt…`); several, separated by spaces. */
  DOUYIN_APP_ID?: string
  /** Secret: the AppSecret of the one Douyin app. */
  DOUYIN_APP_SECRET?: string
  /** Secret: `appid:secret appid:secret …`, for several Douyin apps. */
  DOUYIN_APP_SECRETS?: string
  /** Base URL of Douyin's server API (default https://developer.toutiao.com): https, or http to localhost only. */
  DOUYIN_API_BASE?: string
  /** Milliseconds before a call to Douyin is abandoned. */
  DOUYIN_TIMEOUT_MS?: string
  /** The QQ AppID (digits); several, separated by spaces. */
  QQ_APP_ID?: string
  /** Secret: the AppSecret of the one QQ app. */
  QQ_APP_SECRET?: string
  /** Secret: `appid:secret appid:secret …`, for several QQ apps. */
  QQ_APP_SECRETS?: string
  /** Base URL of QQ's server API (default https://api.q.qq.com): https, or http to localhost only. */
  QQ_API_BASE?: string
  /** Milliseconds before a call to QQ is abandoned. */
  QQ_TIMEOUT_MS?: string
  /** The Alipay AppID (16 digits); one app. */
  ALIPAY_APP_ID?: string
  /** Secret: the app private key (应用私钥): PKCS#8 or PKCS#1 PEM, or bare base64. */
  ALIPAY_PRIVATE_KEY?: string
  /** Alipay's public key (支付宝公钥), PEM or bare base64 (the public key mode). */
  ALIPAY_PUBLIC_KEY?: string
  /** The certificate mode: the app's public key certificate (PEM). */
  ALIPAY_APP_CERT?: string
  /** The certificate mode: Alipay's public key certificate (PEM). */
  ALIPAY_PUBLIC_CERT?: string
  /** The certificate mode: Alipay's root certificate file (PEM). */
  ALIPAY_ROOT_CERT?: string
  /** Secret: the content key (AES, base64 of 16 bytes) that opens my.getPhoneNumber. */
  ALIPAY_AES_KEY?: string
  /** Alipay's gateway (default https://openapi.alipay.com/gateway.do): https, or http to localhost only. */
  ALIPAY_API_BASE?: string
  /** Milliseconds before a call to Alipay's gateway is abandoned. */
  ALIPAY_TIMEOUT_MS?: string
  /** Secret: the Token of the message push settings (消息推送); unset = no `/wechat/events`. */
  WECHAT_EVENT_TOKEN?: string
  /** Secret: the EncodingAESKey of those settings (43 characters); with it, safe mode only. */
  WECHAT_EVENT_AES_KEY?: string
  /** Secret: one HS256 secret, kid `main`. */
  JWT_SECRET?: string
  /** Secret: `kid:secret kid:secret …`, newest first; wins over JWT_SECRET. */
  JWT_SECRETS?: string
  JWT_ISSUER?: string
  JWT_AUDIENCE?: string
  /** Seconds an access token lives (default 7200, at least 60), never past its session. */
  ACCESS_TOKEN_TTL?: string
  /** Session (and refresh token) lifetime in seconds; a refresh extends it. */
  SESSION_TTL?: string
  /** Seconds from login after which a session ends, however often it was refreshed. */
  SESSION_MAX_AGE?: string
  /** The most session data may weigh, serialized, in bytes. */
  MAX_SESSION_BYTES?: string
  /** Secret: the key of stored records (AES-GCM, derived with HKDF). */
  STORAGE_SECRET?: string
  /** Sessions a user may hold at once; the oldest goes first. */
  MAX_SESSIONS?: string
  /** Seconds after a refresh in which the refresh token it replaced gets the same answer again (a lost answer); 0 = none. */
  REFRESH_GRACE_SECONDS?: string
  /** Seconds an isolate reuses a session record it read; 0 = always ask the replica. */
  SESSION_CACHE_SECONDS?: string
  /** Seconds a scan-to-login ticket waits for its confirmation (default 300, 30 to 1800). */
  SCAN_TTL_SECONDS?: string
  /** The page the scan-to-login code opens (`pages/scan/index`); unset: the home page. */
  WECHAT_SCAN_PAGE?: string
  /** The version the code opens: release (default), trial or develop. */
  WECHAT_SCAN_ENV_VERSION?: string
  /** The most an avatar may weigh, bytes (default 1 MiB). */
  MAX_AVATAR_BYTES?: string
  /** Where the app is reached from the internet, for the avatar URLs WeChat fetches to check; default: the request's origin. */
  PUBLIC_URL?: string
  /**
   * `wechat`: WeChat Cloud Hosting mode. A login without a code is the user the
   * gateway's X-WX-* headers name; needs `CBR_ENV_ID` (Cloud Hosting sets it).
   * Only for a service reached through `callContainer` alone (public domain off).
   */
  CLOUD_HOSTING?: string
  /** Set by WeChat Cloud Hosting in every container: its environment's id. `CLOUD_HOSTING` needs it. */
  CBR_ENV_ID?: string
  /** `cloud-hosting`: WeChat's server API through Cloud Hosting's open interface service (http, no access token). */
  WECHAT_OPEN_API?: string
  /**
   * Secret: the operators' keys, `kid:key,kid:key` (each key at least 32
   * random characters); unset = no `/admin` (404).
   */
  ADMIN_KEYS?: string
  /** Origins (H5 pages) allowed to call the routes, exactly, separated by spaces; unset = no CORS. */
  CORS_ORIGINS?: string
}

/**
 * The Worker's env: the variables, and the bindings of wrangler.toml. Extend
 * it with your own: `type Bindings = WxaBindings & { DB: D1Database }`.
 */
export interface WxaBindings extends WxaConfigVars {
  /** KV namespace: the sessions' read replica, identities and the access tokens. */
  SESSIONS: KVNamespace
  /** The session authority: class `UserSessions`, SQLite storage, one object per user. */
  USER_SESSIONS: DurableObjectNamespace
  /** Workers Rate Limiting: logins per client address. */
  LOGIN_RATE_LIMITER?: RateLimit
  /** Workers Rate Limiting: per-user calls to the platforms (decrypt, phone, account deletion). */
  USER_RATE_LIMITER?: RateLimit
  /** R2 bucket of the users' avatars (`PUT /auth/profile`); unbound: avatars are not offered. */
  AVATARS?: R2Bucket
  /** D1 database of the directory and the audit log; unbound: neither is kept. */
  DB?: D1Database
}
