import { type Logger, WxaAuthError } from './errors'
import { type ScanSettings, scanSettings } from './flows/scan-settings'
import { type AdminKey, parseAdminKeys } from './operators/admin-keys'
import { normalizePhone, phoneHash } from './operators/phone'
import type { AuditLog, Directory } from './operators/ports'
import { type App, namingPlatform, PLATFORMS, type PlatformName } from './platforms/index'
import type { PhoneNumber, PlatformDefinition, TrustedCaller, Upstream } from './platforms/platform'
import type { RateLimiter, RuntimeParts } from './runtime/runtime'
import { type IdentityStore, identityStore } from './session/identities'
import { type MediaChecks, mediaChecks } from './session/media-checks'
import type { SessionPolicy } from './session/record'
import { sessionReplica } from './session/replica'
import { type Sessions, sessions } from './session/sessions'
import { type Cipher, createCipher, storageSecret } from './storage/cipher'
import type { ClaimStore } from './storage/claims'
import { MIN_TTL } from './storage/keys'
import type { ObjectStore } from './storage/objects'
import { sealedKv } from './storage/sealed-kv'
import { parseSecrets, type SigningSecret } from './token/keys'
import { apiBase, text, whole } from './util/variables'

export const DEFAULT_SESSION_TTL = 30 * 24 * 60 * 60 // 30 days, seconds
export const DEFAULT_ISSUER = 'wxa-auth'
export const DEFAULT_MAX_SESSIONS = 10 // per user
export const DEFAULT_SESSION_CACHE_SECONDS = 5 // in-isolate reuse of a session record
export const DEFAULT_SESSION_MAX_AGE = 90 * 24 * 60 * 60 // 90 days from login, seconds
export const DEFAULT_MAX_SESSION_BYTES = 16 * 1024 // serialized session data, bytes of UTF-8
export const DEFAULT_REFRESH_GRACE = 30 // seconds a replaced refresh token gets its rotation's answer again
export const DEFAULT_ACCESS_TOKEN_TTL = 2 * 60 * 60 // 2 hours, seconds: an access token's life
export const MIN_ACCESS_TOKEN_TTL = 60 // seconds
/**
 * Days the audit log keeps a record, and the least it may be set to: China's
 * Cybersecurity Law, art. 21(3), asks network logs be kept at least six months.
 */
export const DEFAULT_AUDIT_RETENTION_DAYS = 180
export const MIN_AUDIT_RETENTION_DAYS = 180
export const DEFAULT_MAX_AVATAR_BYTES = 1024 * 1024 // 1 MiB; chooseAvatar's cropped images are ~20–300 KiB

/** Everything wxa-auth needs at run time, resolved and checked, once per runtime key. */
export interface WxaConfig {
  /** The default app: logins that name none are for it. */
  defaultAppId: string
  /** Each app the deployment serves, by AppID, whatever its platform. */
  apps: ReadonlyMap<string, App>
  secrets: SigningSecret[]
  issuer: string
  audience: string
  /** Seconds an access token lives (`ACCESS_TOKEN_TTL`), never past its session. */
  accessTtl: number
  /** The session rules' numbers: lifetime, absolute lifetime, data size, the cap, the grace. */
  policy: SessionPolicy
  /** The sessions: the authority, and the replica's isolate cache kept honest. */
  sessions: Sessions
  /** The newest session_key per (platform, appid, openid), and unionid links (per platform). */
  identities: IdentityStore
  /** What keys the default user: `openid` (per app) or `unionid` (across apps, when there is one). */
  identity: 'openid' | 'unionid'
  rateLimits: { login?: RateLimiter | undefined; user?: RateLimiter | undefined }
  /** The client's address as the runtime knows it; absent: `CF-Connecting-IP`. */
  clientAddress?: RuntimeParts['clientAddress']
  /** Whether the storage answers now (Redis's PING), for `/readyz`. */
  health?: RuntimeParts['health']
  /** The platforms served: the registry's (`PLATFORMS`), or a test's. */
  platforms: readonly PlatformDefinition[]
  /** What each platform's `settings` made of the variables (WeChat's message push), by platform. */
  platformSettings: ReadonlyMap<PlatformName, unknown>
  /** Where avatars live; undefined: avatars are not offered (no `AVATARS` binding). */
  objects: ObjectStore | undefined
  /** Pending image checks of avatars, by trace id. */
  mediaChecks: MediaChecks
  /** The most an avatar may weigh, bytes. */
  maxAvatarBytes: number
  /** Where the app is reached from the internet (`PUBLIC_URL`), for avatar URLs; default: the request's origin. */
  publicUrl: string | undefined
  /** The origins of pages (H5 builds) that may call wxa-auth's routes, exactly; none by default. */
  corsOrigins: readonly string[]
  /**
   * A platform's login kind by trusted headers, when on (`CLOUD_HOSTING=wechat`):
   * a login without a code is the user its gateway's headers name.
   */
  headerLogin: HeaderLogin | undefined
  /** Atomic claims (push queries, scan-to-login tickets, a login code's first answer): strongly consistent per key. */
  claims: ClaimStore
  /** The storage cipher (`STORAGE_SECRET`), for records sealed outside the sealed KV. */
  cipher: Cipher
  /** Scan-to-login: the ticket's life, the page its code opens. */
  scan: ScanSettings
  /** The operators' keys (`ADMIN_KEYS`); none: the `/admin` tree answers 404. */
  adminKeys: readonly AdminKey[]
  /** Users by id, openid, unionid and phone hash; undefined: the runtime has none. */
  directory: Directory | undefined
  /** The audit log (`recordAudit` writes it); undefined: the runtime has none. */
  audit: AuditLog | undefined
  /** Days the audit log keeps a record (`AUDIT_RETENTION_DAYS`, at least 180). */
  auditRetentionDays: number
  /**
   * The keyed hash the directory keeps of a phone number (a platform's
   * answer, or what an operator typed); null when the text is not a number.
   */
  phoneHash(phone: PhoneNumber | string): Promise<string | null>
}

/** Where a platform's API is in development (the emulators), from the dev entry. */
export type UpstreamOf = (platform: PlatformName) => Upstream | undefined

/** `PUBLIC_URL`: an https origin (or http on localhost), without a path. */
function publicUrl(vars: RuntimeParts['vars']): string | undefined {
  const value = apiBase(vars, 'PUBLIC_URL')
  return value?.replace(/\/+$/, '')
}

/** A secret as it was set, untrimmed: a pasted line break is refused, not hidden. */
const raw = (vars: RuntimeParts['vars'], name: string) => {
  const value = vars[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

function oneOf<T extends string>(value: string | undefined, name: string, allowed: T[]): T {
  const chosen = (value ?? allowed[0]) as T
  if (!allowed.includes(chosen)) {
    throw new WxaAuthError('CONFIG_INVALID', `${name} must be ${allowed.join(' or ')}.`)
  }
  return chosen
}

/**
 * Why a `CORS_ORIGINS` entry is not an origin as a browser sends it in
 * `Origin`, and how to write it; `undefined` when it is one.
 */
function notAnOrigin(entry: string): string | undefined {
  if (entry.includes('*')) {
    return `"${entry}" is not allowed (a token must not be readable by any site): list each page's origin, e.g. https://h5.example.com.`
  }
  let url: URL | undefined
  try {
    url = new URL(entry)
  } catch {}
  if (!url?.host) {
    return `"${entry}" is not an origin: write it as the browser sends it, e.g. https://${entry.replace(/^\/+|\/.*$/g, '')}.`
  }
  if (!/^https?:$/.test(url.protocol)) {
    return `"${entry}" is not an origin: only http:// and https:// pages send one.`
  }
  if (url.origin === entry) return undefined
  if (`${url.origin}/` === entry) return `"${entry}" has a trailing slash: write ${url.origin}.`
  if (url.href !== `${url.origin}/` || entry.startsWith(`${url.origin}/`)) {
    return `"${entry}" has a path: an origin is scheme://host[:port], write ${url.origin}.`
  }
  return `"${entry}" is not as the browser sends it: write ${url.origin}.`
}

/**
 * `CORS_ORIGINS`: origins separated by spaces, each exactly `scheme://host[:port]`
 * as a browser sends it in `Origin` (no path, no trailing slash, no `*`).
 *
 * @throws WxaAuthError `CONFIG_INVALID`, naming the first wrong entry and its fix
 */
function corsOrigins(value: string | undefined): string[] {
  const origins = (value ?? '').split(/\s+/).filter(Boolean)
  origins.forEach((origin, i) => {
    const why = notAnOrigin(origin)
    if (why) throw new WxaAuthError('CONFIG_INVALID', `CORS_ORIGINS: entry ${i + 1}, ${why}`)
  })
  return origins
}

/**
 * What a `CONFIG_INVALID` message is about: the first variable or binding it
 * names (they are upper-case; the messages name the one at fault first), or
 * the wrangler.toml key. Never anything else of the message.
 */
const NAMED =
  /\b(?:[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]|SESSIONS|compatibility_date|new_sqlite_classes)\b/

/** The variable a `CONFIG_INVALID` message names first, if any. */
export const configSubject = (message: string): string | undefined => NAMED.exec(message)?.[0]

/**
 * The composition root: the runtime's variables and adapters, made into the
 * configuration. The platforms' emulators come in through `upstream`, from
 * the development entry only.
 *
 * @throws WxaAuthError `CONFIG_INVALID`, naming the variable at fault (never its value)
 */
export function buildConfig(
  parts: RuntimeParts,
  options: {
    log: Logger
    upstream?: UpstreamOf | undefined
    /** The platforms served. @default PLATFORMS */
    platforms?: readonly PlatformDefinition[] | undefined
  },
): WxaConfig {
  try {
    return resolve(parts, options)
  } catch (err) {
    const name =
      err instanceof WxaAuthError && err.code === 'CONFIG_INVALID' && configSubject(err.message)
    if (!name || !parts.howToSet) throw err
    throw new WxaAuthError('CONFIG_INVALID', `${err.message} ${parts.howToSet(name)}`)
  }
}

/** A login kind without a code that this deployment offers: the platform whose gateway names the user. */
export interface HeaderLogin {
  platform: PlatformName
  caller(headers: Headers): TrustedCaller
}

/** The first platform's login kind by trusted headers that is on (`CLOUD_HOSTING=wechat`). */
function headerLogin(
  platforms: readonly PlatformDefinition[],
  vars: RuntimeParts['vars'],
): HeaderLogin | undefined {
  for (const platform of platforms) {
    for (const kind of Object.values(platform.logins)) {
      if (kind.headers?.on(vars)) {
        return { platform: platform.name as PlatformName, caller: kind.headers.caller }
      }
    }
  }
  return undefined
}

/**
 * `AUDIT_RETENTION_DAYS`: whole days, never below what the law asks.
 *
 * @throws WxaAuthError `CONFIG_INVALID` below {@link MIN_AUDIT_RETENTION_DAYS}
 */
export function auditRetentionDaysOf(vars: RuntimeParts['vars']): number {
  const days = whole(vars, 'AUDIT_RETENTION_DAYS', 1, DEFAULT_AUDIT_RETENTION_DAYS)
  if (days < MIN_AUDIT_RETENTION_DAYS) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      `AUDIT_RETENTION_DAYS must be at least ${MIN_AUDIT_RETENTION_DAYS}: China's Cybersecurity Law (art. 21) asks network logs be kept at least six months.`,
    )
  }
  return days
}

/** `A, B or C`. */
const either = (names: string[]) =>
  names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? '')

function resolve(
  parts: RuntimeParts,
  { log, upstream, platforms = PLATFORMS }: Parameters<typeof buildConfig>[1],
): WxaConfig {
  const { vars } = parts
  const secret = storageSecret(vars)
  const cipher = createCipher(secret)
  const kv = sealedKv(parts.kv, cipher, { log })
  const apps = new Map<string, App>()
  for (const platform of platforms) {
    const named = platform.name as PlatformName
    for (const app of platform.apps(vars, {
      kv,
      log,
      upstream: upstream?.(named),
      claims: parts.claims,
    })) {
      if (apps.has(app.appId)) {
        throw new WxaAuthError('CONFIG_INVALID', `The AppID ${app.appId} is configured twice.`)
      }
      apps.set(app.appId, namingPlatform(app as App))
    }
  }
  const defaultAppId = apps.keys().next().value
  if (defaultAppId === undefined) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      `No mini program is configured: set ${either(platforms.map(({ name }) => `${name.toUpperCase()}_APP_ID`))}.`,
    )
  }
  const sessionTtl = whole(vars, 'SESSION_TTL', MIN_TTL, DEFAULT_SESSION_TTL)
  const policy: SessionPolicy = {
    ttl: sessionTtl,
    maxAge: whole(vars, 'SESSION_MAX_AGE', MIN_TTL, DEFAULT_SESSION_MAX_AGE),
    maxBytes: whole(vars, 'MAX_SESSION_BYTES', 2, DEFAULT_MAX_SESSION_BYTES),
    maxSessions: whole(vars, 'MAX_SESSIONS', 1, DEFAULT_MAX_SESSIONS),
    grace: whole(vars, 'REFRESH_GRACE_SECONDS', 0, DEFAULT_REFRESH_GRACE),
  }
  const consistency = oneOf(text(vars, 'SESSION_CONSISTENCY'), 'SESSION_CONSISTENCY', [
    'edge',
    'strict',
  ])
  const cacheSeconds = whole(vars, 'SESSION_CACHE_SECONDS', 0, DEFAULT_SESSION_CACHE_SECONDS)
  const auditRetentionDays = auditRetentionDaysOf(vars)
  return {
    defaultAppId,
    apps,
    secrets: parseSecrets({
      JWT_SECRET: raw(vars, 'JWT_SECRET'),
      JWT_SECRETS: text(vars, 'JWT_SECRETS'),
    }),
    issuer: text(vars, 'JWT_ISSUER') ?? DEFAULT_ISSUER,
    audience: text(vars, 'JWT_AUDIENCE') ?? defaultAppId,
    accessTtl: whole(vars, 'ACCESS_TOKEN_TTL', MIN_ACCESS_TOKEN_TTL, DEFAULT_ACCESS_TOKEN_TTL),
    policy,
    sessions: sessions({
      authority: parts.authority({ sealed: kv, objects: parts.objects }),
      replica: parts.replica ? sessionReplica(kv, { cacheSeconds }) : null,
      consistency,
      policy,
      log,
      cipher,
    }),
    identities: identityStore(kv),
    identity: oneOf(text(vars, 'IDENTITY'), 'IDENTITY', ['openid', 'unionid']),
    rateLimits: parts.rateLimits,
    clientAddress: parts.clientAddress,
    health: parts.health,
    platforms,
    platformSettings: new Map(
      platforms.map((platform) => [
        platform.name as PlatformName,
        platform.settings?.(vars, { claims: parts.claims }) ?? null,
      ]),
    ),
    objects: parts.objects,
    mediaChecks: mediaChecks(kv),
    maxAvatarBytes: whole(vars, 'MAX_AVATAR_BYTES', 1, DEFAULT_MAX_AVATAR_BYTES),
    publicUrl: publicUrl(vars),
    corsOrigins: corsOrigins(text(vars, 'CORS_ORIGINS')),
    headerLogin: headerLogin(platforms, vars),
    claims: parts.claims,
    cipher,
    scan: scanSettings(vars),
    adminKeys: parseAdminKeys(raw(vars, 'ADMIN_KEYS')),
    directory: parts.directory,
    audit: parts.audit?.({ retentionDays: auditRetentionDays }),
    auditRetentionDays,
    async phoneHash(phone) {
      const normalized = normalizePhone(phone)
      return normalized === null ? null : phoneHash(secret, normalized)
    },
  }
}
