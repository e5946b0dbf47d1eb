import type { PlatformName, Variables } from '../env'
import type { Logger } from '../errors'
import type { SealedKv } from '../storage/sealed-kv'

export type { PlatformName }

/** Who the platform says the user is, after its code2Session. `sessionKey` never leaves the server. */
export interface PlatformSession {
  openid: string
  /** Links the apps of one developer entity on one platform; only when the platform sends it. */
  unionid?: string
  /** Douyin, when the login sent an `anonymousCode`: the openid of the user's visits before logging in. */
  anonymousOpenid?: string
  /** Absent where the platform has none (Alipay). */
  sessionKey?: string
}

/** A user's phone number as the platform returns it. */
export interface PhoneNumber {
  /** With the country code for numbers outside mainland China. */
  phoneNumber: string
  /** Without the country code. */
  purePhoneNumber: string
  countryCode: string
}

/** What a login hands to code2Session: the login code, and what else the platform takes. */
export interface LoginCode {
  code: string
  /** Douyin's `anonymousCode` from `tt.login`, sent beside the code; other platforms ignore it. */
  anonymousCode?: string | undefined
}

/**
 * One mini program of one platform, ready to call: the port between the
 * flows and a platform. Every failure is a `WxaAuthError` with a
 * platform-neutral code (`CODE_INVALID`, `UPSTREAM_UNAVAILABLE`, …); the
 * platform's own errcode goes into `cause` and the log. What a platform does
 * not offer is absent: the route answers 4xx `NOT_OFFERED`.
 */
export interface PlatformApp {
  readonly platform: PlatformName
  readonly appId: string
  /** Exchanges a login code for the user's identity and session_key. */
  code2Session(login: LoginCode): Promise<PlatformSession>
  /** Opens `encryptedData` with the session_key, checking that its watermark names this app. Absent without a session_key (Alipay). */
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
}

/** Where a platform's API is, when not its own servers: the emulators of `npm run dev`. */
export interface Upstream {
  fetch: (input: Request | string | URL, init?: RequestInit) => Promise<Response>
  /** The app secret the upstream takes (the emulator's stand-in). */
  appSecret: string
  /** The AppID to serve when the platform's variables name none. */
  defaultAppId?: string
}

/** What a platform definition gets to build its apps. */
export interface PlatformContext {
  /** Sealed records (the access-token cache). */
  kv: SealedKv
  log: Logger
  /** Set in development: the platform's emulator instead of its servers. */
  upstream: Upstream | undefined
}

/**
 * A platform: the apps its variables configure. One file per platform
 * (`wechat/platform.ts`), one line in `./index.ts`.
 */
export interface PlatformDefinition {
  readonly name: PlatformName
  /** The apps configured in `vars`; none when the platform's variables are unset. */
  apps(vars: Variables, context: PlatformContext): PlatformApp[]
}
