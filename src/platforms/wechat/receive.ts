// WeChat's message push (消息推送), received: the signed query, the URL check,
// the plain and safe modes, the claims that make each query and each event
// count once, and what each authorization event asks of wxa-auth.
// https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
import { WxaAuthError } from '../../errors'
import type { PlatformApp, UserAction } from '../platform'
import {
  type AuthorizationEventName,
  authorizationEvent,
  type EventFields,
  type MediaCheckResult,
  mediaCheckResult,
  type PushFields,
  readPushBody,
  textField,
} from './events'
import { decryptPush, verifyPushSignature } from './push'
import type { PushSettings } from './push-settings'

/** How far a push's `timestamp` may be from our clock, either way. */
export const DEFAULT_EVENT_TOLERANCE = 5 * 60 // 5 minutes, seconds
const MAX_ECHOSTR = 256 // characters
const TIMESTAMP = /^[0-9]{1,12}$/
const NONCE = /^[\w.-]{1,64}$/

type Deleted = ('nickname' | 'avatar')[]

/**
 * What a withdrawal names (RevokeInfo, WeChat's security guide 安全指引 →
 * 授权用户信息变更) and what of the profile goes with it. Any other code
 * (Bluetooth 4, location 13, …) deletes nothing of wxa-auth's.
 */
export const REVOKED: Readonly<Record<string, Deleted>> = {
  '6': ['nickname', 'avatar'], // nickname and avatar
  '19': ['nickname'], // the nickname chosen from the nickname keyboard
  '20': ['avatar'], // the avatar chosen with the avatar component
}
/** RevokeInfo 8: the phone number, which wxa-auth does not keep; `onPhoneNumberRevoked` hears of it. */
export const REVOKED_PHONE = '8'

/** The codes of a RevokeInfo: one, or several separated by commas, spaces or bars. */
export const revokedCodes = (event: EventFields) =>
  (event.revokeInfo ?? '').split(/[\s,|]+/).filter(Boolean)

type Asked = Pick<UserAction, 'endSessions' | 'clear' | 'hooks' | 'forget'>

/**
 * WeChat's authorization events and what each asks: a withdrawal deletes
 * what it names and ends no session; a cleaned-up profile clears the
 * nickname and avatar; a cancellation ends every session and forgets the
 * user once the hook ran (when it throws, WeChat retries and nothing is gone).
 * https://developers.weixin.qq.com/miniprogram/dev/server/event_push/platform/authorized_user_information_changes
 */
export const EVENT_TABLE: { [E in AuthorizationEventName]: (event: EventFields) => Asked } = {
  user_authorization_revoke: (event) => ({
    clear: [...new Set(revokedCodes(event).flatMap((code) => REVOKED[code] ?? []))],
    hooks: [
      ...(revokedCodes(event).includes(REVOKED_PHONE) ? (['onPhoneNumberRevoked'] as const) : []),
      'onAuthorizationRevoked',
    ],
  }),
  user_authorization_cancellation: () => ({
    endSessions: true,
    hooks: ['onAccountCancelled'],
    forget: true,
  }),
  user_info_modified: () => ({ clear: ['nickname', 'avatar'], hooks: ['onUserInfoModified'] }),
}

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
 * The query every push and URL check carries, checked: its signature is
 * `signature` (plain) or `msg_signature` over `encrypt` (encrypted), and its
 * timestamp within {@link DEFAULT_EVENT_TOLERANCE} of `now`.
 */
async function checkSigned(
  token: string,
  query: Record<string, string>,
  now: number,
  encrypt?: string,
): Promise<void> {
  const { timestamp = '', nonce = '' } = query
  const signature = (encrypt !== undefined ? query.msg_signature : query.signature) ?? ''
  if (!TIMESTAMP.test(timestamp) || !NONCE.test(nonce)) {
    throw rejected('timestamp or nonce missing or malformed')
  }
  const parts =
    encrypt !== undefined ? [token, timestamp, nonce, encrypt] : [token, timestamp, nonce]
  if (!(await verifyPushSignature(signature, ...parts))) {
    throw rejected(
      encrypt !== undefined ? 'msg_signature does not match' : 'signature does not match',
    )
  }
  if (Math.abs(now - Number(timestamp)) > DEFAULT_EVENT_TOLERANCE) {
    throw rejected('timestamp is more than 5 minutes from our clock')
  }
}

/**
 * Claims the signed query for this request, before anything is done: a query
 * seen with another body (or with the URL check) is a replay. In plain mode
 * the signature covers the query only, so this is what binds it to one body.
 */
async function claimQuery(
  push: PushSettings,
  query: Record<string, string>,
  request: string,
  now: number,
) {
  if (!(await push.claims.query(queryId(query), request, now))) {
    throw rejected('the signed query was already used with another body')
  }
}

/** WeChat's URL check of the push settings: `echostr` back when the query is signed with our Token. */
export async function urlCheck(
  push: PushSettings,
  query: Record<string, string>,
  now: number,
): Promise<string> {
  await checkSigned(push.token, query, now)
  const { echostr } = query
  if (!echostr || echostr.length > MAX_ECHOSTR) {
    throw new WxaAuthError('INVALID_REQUEST', 'echostr is missing or too long.')
  }
  // A URL check's query is used up by it: it can never carry a push.
  if (!(await push.claims.query(queryId(query), 'GET', now))) {
    throw rejected('the signed query was already used for a push')
  }
  return echostr
}

/** A push's fields, checked and opened, and the AppID they are for (sealed with them in safe mode). */
async function openFields(
  push: PushSettings,
  apps: ReadonlyMap<string, PlatformApp>,
  query: Record<string, string>,
  body: string,
  now: number,
): Promise<{ fields: PushFields; sealedFor?: string }> {
  // A URL check's query (it carries echostr) never carries a push.
  if (query.echostr !== undefined) throw rejected('a push with the echostr of a URL check')
  // With an EncodingAESKey, safe mode is the only mode: in plain mode the
  // body is not signed, so a plain push proves nothing about its content.
  const key = await push.key()
  if (key && (query.encrypt_type !== 'aes' || !query.msg_signature)) {
    throw rejected('a plain push, and WECHAT_EVENT_AES_KEY is set (safe mode only)')
  }
  if (query.encrypt_type === 'aes') {
    // Safe mode, and compatible mode (whose plain fields beside Encrypt are ignored).
    const encrypt = textField(readPushBody(body).fields, 'Encrypt')
    if (!encrypt && key) throw rejected('an encrypted push without Encrypt')
    if (!encrypt) throw new WxaAuthError('INVALID_REQUEST', 'The encrypted push has no Encrypt.')
    await checkSigned(push.token, query, now, encrypt)
    await claimQuery(push, query, `POST\n${body}`, now)
    if (!key) {
      throw new WxaAuthError(
        'CONFIG_INVALID',
        'WECHAT_EVENT_AES_KEY is not set, and WeChat sends encrypted pushes (safe or compatible mode).',
      )
    }
    const opened = await decryptPush(encrypt, key, [...apps.keys()])
    return { fields: readPushBody(opened.message).fields, sealedFor: opened.appId }
  }
  if (query.encrypt_type !== undefined && query.encrypt_type !== 'raw') {
    throw new WxaAuthError('INVALID_REQUEST', 'encrypt_type must be aes or absent.')
  }
  await checkSigned(push.token, query, now)
  await claimQuery(push, query, `POST\n${body}`, now)
  return { fields: readPushBody(body).fields }
}

/** The app a push is for: sealed with it in safe mode, or named by its field; one of our WeChat apps. */
function pushedFor(
  apps: ReadonlyMap<string, PlatformApp>,
  sealedFor: string | undefined,
  named: string | undefined,
) {
  if (sealedFor !== undefined && named !== undefined && named !== sealedFor) {
    throw rejected('the AppID field differs from the AppID sealed with it')
  }
  const appId = sealedFor ?? named
  if (!appId || !apps.has(appId)) throw new WxaAuthError('UNKNOWN_APP')
  return appId
}

/** A push, verified: what it asks of wxa-auth, and the id under which it is acted on once. */
export type VerifiedPush =
  | { kind: 'user'; id: string[]; action: UserAction }
  | { kind: 'image'; id: string[]; verdict: MediaCheckResult & { appId: string } }
  /** Anything else that arrives at the push URL: acknowledged and ignored. */
  | { kind: 'other' }

/**
 * A push of WeChat's message push: its signed query checked and claimed, its
 * body opened (safe mode) and read, its app one of ours (`apps`, WeChat's).
 *
 * @throws WxaAuthError `WECHAT_EVENT_SIGNATURE_INVALID`, `INVALID_REQUEST`,
 * `INVALID_JSON`, `UNKNOWN_APP`, `CONFIG_INVALID`
 */
export async function openPush(
  push: PushSettings,
  apps: ReadonlyMap<string, PlatformApp>,
  request: { query: Record<string, string>; body: string; now: number },
): Promise<VerifiedPush> {
  const { query, body, now } = request
  const { fields, sealedFor } = await openFields(push, apps, query, body, now)
  const checked = mediaCheckResult(fields)
  if (checked) {
    const appId = pushedFor(apps, sealedFor, checked.appId)
    return {
      kind: 'image',
      id: [appId, 'wxa_media_check', checked.trace],
      verdict: { ...checked, appId },
    }
  }
  const found = authorizationEvent(fields)
  if (!found) return { kind: 'other' }
  const appId = pushedFor(apps, sealedFor, found.appId)
  return {
    kind: 'user',
    // The event itself, whatever the query: WeChat's retries may come with a new nonce.
    id: [
      appId,
      found.event,
      found.openid,
      String(found.createTime),
      found.revokeInfo ?? '',
      found.pluginId ?? '',
      found.openPid ?? '',
    ],
    action: {
      platform: 'wechat',
      appId,
      openid: found.openid,
      ...EVENT_TABLE[found.event](found),
      event: { ...found, appId, raw: Object.freeze({ ...fields }) },
    },
  }
}

/**
 * Acts on the event `id` once, however its deliveries overlap: claimed
 * before anything is done. A delivery that finds it claimed by another one
 * answers `EVENT_IN_PROGRESS` (503: WeChat retries, and the retry
 * finds it done); a run that throws lets it go, so that the retry redoes it;
 * one done is marked for the replay window.
 */
export async function once(
  push: PushSettings,
  id: string[],
  now: number,
  act: () => Promise<unknown>,
): Promise<'success'> {
  const claim = await push.claims.claim(id, now)
  if (claim.state === 'done') return 'success'
  if (claim.state === 'busy') throw new WxaAuthError('EVENT_IN_PROGRESS')
  try {
    await act()
  } catch (err) {
    await claim.release(now).catch(() => {})
    throw err
  }
  await claim.done(now)
  return 'success'
}
