import type { Context, Hono } from 'hono'
import type * as v from 'valibot'
import type { Variables } from '../env'
import type { Logger } from '../errors'
import type { ClaimStore } from '../storage/claims'
import type { SealedKv } from '../storage/sealed-kv'

/** Who the platform says the user is, after its code2Session. `sessionKey` never leaves the server. */
export interface PlatformSession {
  openid: string
  /** Links the apps of one developer entity on one platform; only when the platform sends it. */
  unionid?: string
  /** Douyin, when the login sent an `anonymousCode`: the openid of the user's visits before logging in. */
  anonymousOpenid?: string
  /** Absent where the platform has none (Alipay, a web login): no decrypt, no user info. */
  sessionKey?: string
  /** What the platform itself says of the user (WeChat's `/sns/userinfo`): to the `onUserInfo` hook. */
  userInfo?: Record<string, unknown>
}

/** A user's phone number as the platform returns it. */
export interface PhoneNumber {
  /** With the country code for numbers outside mainland China. */
  phoneNumber: string
  /** Without the country code. */
  purePhoneNumber: string
  countryCode: string
}

/**
 * What a login hands to code2Session: the login code, and the fields of the
 * platform's `code` login kind as its schema read them (Douyin's `anonymousCode`).
 */
export type LoginCode = { code: string } & Readonly<Record<string, unknown>>

/**
 * One mini program of one platform, ready to call: the port between the
 * flows and a platform. Every failure is a `WxaAuthError` with a
 * platform-neutral code (`CODE_INVALID`, `UPSTREAM_UNAVAILABLE`, …); the
 * platform's own errcode goes into `cause` and the log. What a platform does
 * not offer is absent: the route answers 4xx `NOT_OFFERED`.
 */
export interface PlatformApp<Name extends string = string> {
  readonly platform: Name
  readonly appId: string
  /** The login kind its code is taken by (`oauth` for a WeChat web page or App). @default 'code' */
  readonly loginKind?: string
  /** What its sessions' devices are marked as (`oa`, `web`, `app`); absent for a mini program. */
  readonly door?: string
  /**
   * Where a browser goes to log in (an OAuth authorize URL) for `redirectUri`
   * and `scope`, with a fresh state. `emulatorBase`: in development, the
   * emulator's consent page instead of the platform's.
   * @throws WxaAuthError `REDIRECT_URI_INVALID`, `INVALID_REQUEST`
   */
  authorize?(request: {
    redirectUri: string
    scope: string
    now: number
    emulatorBase: string
  }): Promise<string>
  /** Exchanges a login code for the user's identity (and session_key, where there is one). */
  code2Session(login: LoginCode): Promise<PlatformSession>
  /** Opens `encryptedData` with the session_key, checking that its watermark names this app. */
  decrypt?(input: {
    encryptedData: string
    iv: string
    sessionKey: string
  }): Promise<Record<string, unknown>>
  /** Whether `signature` is rawData's signature under the session_key. */
  verifyRawData?(input: {
    rawData: string
    signature: string
    sessionKey: string
  }): Promise<boolean>
  /** The phone number behind a phone-number button's code, checked against `openid`. */
  phone?(code: string, openid: string): Promise<PhoneNumber>
  /** Alipay's `my.getPhoneNumber`: the number inside its signed, encrypted `{ response, sign }`. */
  signedPhone?(input: { response: string; sign: string }): Promise<PhoneNumber>
  /** Whether the platform still holds `sessionKey` as the user's session_key. */
  checkSessionKey?(openid: string, sessionKey: string): Promise<boolean>
  /** Has the platform issue the user a new session_key, signed with the current one. */
  resetSessionKey?(openid: string, sessionKey: string): Promise<string>
  /** The platform's check of text a user wrote into their profile (a nickname). */
  checkText?(text: string, openid: string): Promise<'pass' | 'review' | 'risky'>
  /** Starts the platform's asynchronous check of an image at `url`; its trace id. */
  checkImage?(url: string, openid: string): Promise<string>
  /** A mini program code (WeChat's getwxacodeunlimit) opening `page` with `scene`: its image. */
  miniProgramCode?(input: MiniProgramCodeInput): Promise<{ bytes: Uint8Array; type: string }>
}

/** What a mini program code opens: `page` (default: the home page) with `scene` in its options. */
export interface MiniProgramCodeInput {
  scene: string
  page?: string | undefined
  checkPath: boolean
  envVersion: 'release' | 'trial' | 'develop'
}

/** Where a platform's API is, when not its own servers: the emulators of `npm run dev`. */
export interface Upstream {
  fetch: (input: Request | string | URL, init?: RequestInit) => Promise<Response>
  /** The app secret the upstream takes (the emulator's stand-in). */
  appSecret: string
  /** The AppID to serve when the platform's variables name none. */
  defaultAppId?: string
  /** The stand-in's keys, for a platform that signs with keys instead of a secret (Alipay). */
  keys?: (appId: string) => Promise<Record<string, string>>
}

/** What a platform definition gets to build its apps. */
export interface PlatformContext {
  /** Sealed records (the access-token cache). */
  kv: SealedKv
  log: Logger
  /** Set in development: the platform's emulator instead of its servers. */
  upstream: Upstream | undefined
  /** Atomic claims (an OAuth state used once). */
  claims: ClaimStore
}

/**
 * One way to log in on a platform: the fields its login body holds beside the
 * shared ones (`appId`, `phoneCode`, `device`, the user info), as valibot
 * entries. `POST /auth/login`'s schema is the shared fields and every kind's.
 */
export interface LoginKind {
  readonly input: v.ObjectEntries
  /**
   * A kind without a code: the user the request's headers name, as the
   * platform's gateway vouches for them (WeChat Cloud Hosting's X-WX-*).
   * Offered where `on(vars)` (which throws `CONFIG_INVALID` at configuration
   * time when they are wrong); elsewhere a login without a code is a 400.
   */
  readonly headers?: {
    on(vars: Variables): boolean
    caller(headers: Headers): TrustedCaller
  }
  /**
   * Seconds within which the same code posted again gets the first login's
   * answer back (an OAuth redirect delivered twice), not an error and not a
   * second session. Kept by a hash of the code, never the code.
   */
  readonly replay?: number
}

/** Who a platform's gateway says sent a request: a login without a code, and no session_key. */
export interface TrustedCaller {
  appId: string
  openid: string
  unionid?: string
}

/** The names of the hooks a platform's events may call (see `UserHooks`). */
export type EventHookName =
  | 'onAuthorizationRevoked'
  | 'onPhoneNumberRevoked'
  | 'onAccountCancelled'
  | 'onUserInfoModified'

/** Who a platform's event is about. */
export interface EventUser {
  platform: string
  appId: string
  openid: string
}

/**
 * What a platform's event asks of wxa-auth for one user, in this order: end
 * every session, clear what of the profile it names, tell the app's hooks
 * (with `event`, and the user id and what was done), then forget the user.
 */
export interface UserAction extends EventUser {
  endSessions?: boolean
  clear?: readonly ('nickname' | 'avatar')[]
  hooks?: readonly EventHookName[]
  /** What the hooks receive beside `appId`, `openid`, `uid`, `sessionsEnded` and `deleted`. */
  event?: Readonly<Record<string, unknown>>
  forget?: boolean
}

/** What an action did: the user it found by the login's rule (null: unknown), and what went. */
export interface ActionDone {
  uid: string | null
  sessionsEnded: number
  deleted: ('nickname' | 'avatar')[]
}

/** What a request to a platform's own routes reads. */
export interface PlatformRequest<Settings> {
  /** The platform's apps, by AppID. */
  apps: ReadonlyMap<string, PlatformApp>
  /** What `settings` made of the variables; null when the platform's routes are not configured. */
  settings: Settings | null
  /** Unix seconds, read once. */
  now: number
}

/**
 * What a platform's routes get: a request's configuration, narrowly, and the
 * actions its pushes may ask for. The actions run the flows; the platform
 * imports none of them.
 */
export interface PlatformRoutesContext<Settings> {
  request(c: Context): PlatformRequest<Settings>
  log: Logger
  /** Acts on `action` for its user (see {@link UserAction}). */
  act(c: Context, action: UserAction): Promise<ActionDone>
  /** Forgets a user, as an account cancellation does: every session ends, the identities go. */
  forget(c: Context, user: EventUser): Promise<ActionDone>
  /** The verdict of an image check the platform was asked for: a risky avatar goes. */
  imageChecked(
    c: Context,
    verdict: { appId: string; trace: string; suggest: 'pass' | 'review' | 'risky' },
  ): Promise<void>
}

/**
 * A platform: the apps its variables configure. One folder per platform
 * (`wechat/platform.ts`), one line in `./index.ts`. Typed by its own
 * name; nothing here knows the others (`PlatformName` is the registry's).
 */
export interface PlatformDefinition<Name extends string = string, Settings = unknown> {
  /** The platform's name: `PlatformName` is the registry's names. */
  readonly name: Name
  /** The apps configured in `vars`; none when the platform's variables are unset. */
  apps(vars: Variables, context: PlatformContext): PlatformApp<Name>[]
  /** Its ways to log in, by name: `code` (the mini program's login code) at least. */
  readonly logins: { readonly code: LoginKind } & Readonly<Record<string, LoginKind>>
  /**
   * What its routes need of the variables (a push Token), checked at
   * configuration time; null when they are not set.
   */
  settings?(vars: Variables, context: { claims: ClaimStore }): Settings | null
  /** Mounts its own routes (push endpoints, redirects), served under `/<name>`. */
  routes?(routes: Hono, context: PlatformRoutesContext<Settings>): void
  /**
   * Mounts its own routes of the login (an OAuth authorize redirect), served
   * under `/auth/<name>` with the auth routes (CORS, rate limits).
   */
  authRoutes?(routes: Hono, context: PlatformRoutesContext<Settings>): void
}
