import { WxaAuthError } from '../../errors'
import { parseJson } from '../../util/json'
import { parseWeChatXml, XmlShapeError } from './xml'

/**
 * The authorization events WeChat pushes about a user.
 * https://developers.weixin.qq.com/miniprogram/dev/server/event_push/platform/authorized_user_information_changes
 */
export const AUTHORIZATION_EVENTS = [
  'user_info_modified',
  'user_authorization_revoke',
  'user_authorization_cancellation',
] as const

/** `user_info_modified`, `user_authorization_revoke` or `user_authorization_cancellation`. */
export type AuthorizationEventName = (typeof AUTHORIZATION_EVENTS)[number]

/** A push's fields, as WeChat sent them (JSON values, or XML text and groups of text). */
export type PushFields = Readonly<Record<string, unknown>>

/**
 * An authorization event for one user of one mini program, checked and
 * decrypted, as the hooks receive it.
 */
export interface AuthorizationEvent<E extends AuthorizationEventName = AuthorizationEventName> {
  /** WeChat's `Event`. */
  event: E
  /** The mini program (`AppID`; in safe mode the AppID sealed into the ciphertext). */
  appId: string
  /** The user (`OpenID`). `FromUserName` is WeChat's push account, not the user. */
  openid: string
  /** WeChat's `CreateTime`, unix seconds. */
  createTime: number
  /**
   * `user_authorization_revoke`: what the user withdrew, WeChat's code as sent
   * (e.g. `"6"` nickname and avatar, `"8"` phone number; see WeChat's list).
   */
  revokeInfo?: string
  /** A revoke inside a plugin: the plugin's AppID (`PluginID`). */
  pluginId?: string
  /** A revoke inside a plugin: the user's `OpenPID`. */
  openPid?: string
  /**
   * The user id whose sessions this event concerns: from the identity wxa-auth
   * keeps for (appId, openid), or, with the default user model, the id derived
   * from them. Null when unknown: a custom user model and no identity (the
   * user never logged in, or not within `SESSION_TTL`). Your own records of
   * the user may exist all the same: look them up by `appId` and `openid`.
   */
  uid: string | null
  /** How many sessions were ended (only a cancellation ends any). */
  sessionsEnded: number
  /** What of wxa-auth's was deleted: the profile's `nickname` and/or `avatar`. */
  deleted: ('nickname' | 'avatar')[]
  /** Every field of the message as WeChat sent it (decrypted in safe mode). */
  raw: PushFields
}

/** A push body read: its fields. */
export interface PushBody {
  fields: PushFields
}

const invalid = (message: string) => new WxaAuthError('INVALID_REQUEST', message)

/**
 * Reads a push body, JSON or XML by its first character, strictly.
 * @throws WxaAuthError `INVALID_REQUEST` (400) when it is neither, or not an object of fields
 */
export function readPushBody(text: string): PushBody {
  const first = text.trimStart()[0]
  if (first === '{') {
    let parsed: unknown
    try {
      parsed = parseJson(text)
    } catch (err) {
      if (err instanceof WxaAuthError) throw err
      throw new WxaAuthError('INVALID_JSON')
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw invalid('The push is not a JSON object.')
    }
    return { fields: parsed as PushFields }
  }
  if (first === '<') {
    try {
      return { fields: parseWeChatXml(text) }
    } catch (err) {
      if (err instanceof XmlShapeError) throw invalid('The push is not WeChat’s XML shape.')
      throw err
    }
  }
  throw invalid('The push is neither JSON nor XML.')
}

/** A field as text: a string, or an integer (JSON's `CreateTime`); undefined otherwise. */
export function textField(fields: PushFields, name: string): string | undefined {
  const value = Object.hasOwn(fields, name) ? fields[name] : undefined
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value)
  return undefined
}

const OPENID = /^[\w-]{1,128}$/
const CREATE_TIME = /^[1-9][0-9]{0,11}$/

/** The parts of an authorization event that come from the message itself. */
export type EventFields = Pick<
  AuthorizationEvent,
  'event' | 'openid' | 'createTime' | 'revokeInfo' | 'pluginId' | 'openPid'
> & { appId: string | undefined }

/**
 * The authorization event a message carries; null for any other message
 * (another `MsgType`, another `Event`), which the endpoint acknowledges and
 * ignores: customer service messages and other events share the push URL.
 *
 * @throws WxaAuthError `INVALID_REQUEST` when a known event lacks `OpenID` or `CreateTime`
 */
export function authorizationEvent(fields: PushFields): EventFields | null {
  const type = textField(fields, 'MsgType')
  if (type === undefined) throw invalid('The push has no MsgType.')
  if (type.toLowerCase() !== 'event') return null
  const event = textField(fields, 'Event')
  if (!AUTHORIZATION_EVENTS.includes(event as AuthorizationEventName)) return null
  const openid = textField(fields, 'OpenID')
  if (!openid || !OPENID.test(openid)) throw invalid('The event has no usable OpenID.')
  const createTime = textField(fields, 'CreateTime')
  if (!createTime || !CREATE_TIME.test(createTime)) {
    throw invalid('The event has no usable CreateTime.')
  }
  const revokeInfo = textField(fields, 'RevokeInfo')
  const pluginId = textField(fields, 'PluginID')
  const openPid = textField(fields, 'OpenPID')
  return {
    event: event as AuthorizationEventName,
    appId: textField(fields, 'AppID'),
    openid,
    createTime: Number(createTime),
    ...(revokeInfo !== undefined ? { revokeInfo } : {}),
    ...(pluginId !== undefined ? { pluginId } : {}),
    ...(openPid !== undefined ? { openPid } : {}),
  }
}

/** The verdict of an asynchronous image check (`wxa_media_check`), as WeChat pushes it. */
export interface MediaCheckResult {
  /** The app (`appid`; in safe mode the AppID sealed with the push). */
  appId: string | undefined
  /** The check's `trace_id`, as `media_check_async` returned it. */
  trace: string
  suggest: 'pass' | 'review' | 'risky'
}

const TRACE = /^[\w.-]{1,128}$/

/**
 * The result a `wxa_media_check` push carries; null for any other message.
 * https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/sec-center/sec-check/mediaCheckAsync.html
 *
 * @throws WxaAuthError `INVALID_REQUEST` when it lacks a usable `trace_id` or `result.suggest`
 */
export function mediaCheckResult(fields: PushFields): MediaCheckResult | null {
  if (textField(fields, 'MsgType')?.toLowerCase() !== 'event') return null
  if (textField(fields, 'Event') !== 'wxa_media_check') return null
  const trace = textField(fields, 'trace_id')
  if (!trace || !TRACE.test(trace)) throw invalid('The media check has no usable trace_id.')
  const result = Object.hasOwn(fields, 'result') ? fields.result : undefined
  const suggest =
    typeof result === 'object' && result !== null
      ? (result as Record<string, unknown>).suggest
      : undefined
  if (suggest !== 'pass' && suggest !== 'review' && suggest !== 'risky') {
    throw invalid('The media check has no usable result.suggest.')
  }
  return { appId: textField(fields, 'appid'), trace, suggest }
}
