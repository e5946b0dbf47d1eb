import type { Context } from 'hono'
import { WxaAuthError } from '../errors'
import type { UserHooks } from '../hooks'
import { defaultUserId } from '../hooks'
import {
  type AuthorizationEvent,
  type AuthorizationEventName,
  authorizationEvent,
  type EventFields,
  type MediaCheckResult,
  mediaCheckResult,
  type PushFields,
  readPushBody,
  textField,
} from '../platforms/wechat/events'
import { decryptPush, verifyPushSignature } from '../platforms/wechat/push'
import type { PushSettings } from '../platforms/wechat/push-settings'
import type { Flow } from './context'
import { forgetUser } from './forget'

/** How far a push's `timestamp` may be from our clock, either way. */
export const DEFAULT_EVENT_TOLERANCE = 5 * 60 // 5 minutes, seconds
const MAX_ECHOSTR = 256 // characters
const TIMESTAMP = /^[0-9]{1,12}$/
const NONCE = /^[\w.-]{1,64}$/

// biome-ignore lint/suspicious/noExplicitAny: any user model's hooks
type Hooks = Required<UserHooks<any>>
type Hook<E extends AuthorizationEventName> = (
  event: AuthorizationEvent<E>,
  c: Context,
) => void | Promise<void>
type Deleted = AuthorizationEvent['deleted']

/** What one kind of event does. A kind without a row is acknowledged and ignored. */
interface EventRow<E extends AuthorizationEventName> {
  /** Whose sessions end first: every app's (the account is gone), or none. */
  ends: 'all' | 'none'
  /** What of the profile goes first. */
  deletes: (event: EventFields) => Deleted
  /** The hooks that hear of it, in order. */
  hooks: (hooks: Hooks, event: EventFields) => Hook<E>[]
  /** What goes once the hooks ran (when one throws, WeChat retries and this is not gone yet). */
  after: 'user' | 'nothing'
}

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

/**
 * WeChat's authorization events and what each does: a withdrawal deletes
 * what it names and ends no session; a cleaned-up profile clears the
 * nickname and avatar; a cancellation forgets the user.
 * https://developers.weixin.qq.com/miniprogram/dev/server/event_push/platform/authorized_user_information_changes
 */
export const EVENT_TABLE: { [E in AuthorizationEventName]: EventRow<E> } = {
  user_authorization_revoke: {
    ends: 'none',
    deletes: (event) => [...new Set(revokedCodes(event).flatMap((code) => REVOKED[code] ?? []))],
    hooks: (hooks, event) => [
      ...(revokedCodes(event).includes(REVOKED_PHONE) ? [hooks.onPhoneNumberRevoked] : []),
      hooks.onAuthorizationRevoked,
    ],
    after: 'nothing',
  },
  user_authorization_cancellation: {
    ends: 'all',
    deletes: () => [],
    hooks: (hooks) => [hooks.onAccountCancelled],
    after: 'user',
  },
  user_info_modified: {
    ends: 'none',
    deletes: () => ['nickname', 'avatar'],
    hooks: (hooks) => [hooks.onUserInfoModified],
    after: 'nothing',
  },
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

function settingsOf<User extends { id: string }>(flow: Flow<User>): PushSettings {
  if (!flow.config.events) throw new WxaAuthError('NOT_FOUND')
  return flow.config.events
}

/** WeChat's URL check of the push settings: `echostr` back when the query is signed with our Token. */
export async function urlCheck<User extends { id: string }>(
  flow: Flow<User>,
  query: Record<string, string>,
): Promise<string> {
  const push = settingsOf(flow)
  await checkSigned(push.token, query, flow.now)
  const { echostr } = query
  if (!echostr || echostr.length > MAX_ECHOSTR) {
    throw new WxaAuthError('INVALID_REQUEST', 'echostr is missing or too long.')
  }
  // A URL check's query is used up by it: it can never carry a push.
  if (!(await push.claims.query(queryId(query), 'GET', flow.now))) {
    throw rejected('the signed query was already used for a push')
  }
  return echostr
}

/** A push's fields, checked and opened, and the AppID they are for (sealed with them in safe mode). */
async function openPush<User extends { id: string }>(
  flow: Flow<User>,
  push: PushSettings,
  query: Record<string, string>,
  body: string,
): Promise<{ fields: PushFields; sealedFor?: string }> {
  const { now } = flow
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
    const ours = [...flow.config.apps.values()].filter((a) => a.platform === 'wechat')
    const opened = await decryptPush(
      encrypt,
      key,
      ours.map((a) => a.appId),
    )
    return { fields: readPushBody(opened.message).fields, sealedFor: opened.appId }
  }
  if (query.encrypt_type !== undefined && query.encrypt_type !== 'raw') {
    throw new WxaAuthError('INVALID_REQUEST', 'encrypt_type must be aes or absent.')
  }
  await checkSigned(push.token, query, now)
  await claimQuery(push, query, `POST\n${body}`, now)
  return { fields: readPushBody(body).fields }
}

/**
 * A push of WeChat's message push (消息推送): checked, claimed, and for an
 * authorization event done as {@link EVENT_TABLE} says, once. Anything else
 * that arrives at the same URL is acknowledged and ignored.
 *
 * @returns WeChat's expected answer, `success`
 */
export async function receivePush<User extends { id: string }>(
  flow: Flow<User>,
  query: Record<string, string>,
  body: string,
): Promise<'success'> {
  const { config, hooks, now, c } = flow
  const push = settingsOf(flow)
  const { fields, sealedFor } = await openPush(flow, push, query, body)
  const checked = mediaCheckResult(fields)
  if (checked) return receiveMediaCheck(flow, push, checked, sealedFor)
  const found = authorizationEvent(fields)
  if (!found) return 'success'
  const appId = pushedFor(config, sealedFor, found.appId)

  // The event itself, whatever the query: WeChat's retries may come with a new nonce.
  const id = [
    appId,
    found.event,
    found.openid,
    String(found.createTime),
    found.revokeInfo ?? '',
    found.pluginId ?? '',
    found.openPid ?? '',
  ]
  return once(push, id, now, async () => {
    const row = EVENT_TABLE[found.event] as EventRow<AuthorizationEventName>
    const identity = await config.identities.get(appId, found.openid, 'wechat')
    // With the default user model the uid follows from (appid, openid), even once the identity has expired.
    const uid =
      identity?.uid ??
      (!flow.ownUsers && config.identity === 'openid'
        ? await defaultUserId(appId, found.openid, 'wechat')
        : null)
    let sessionsEnded = 0
    if (uid && row.ends === 'all') sessionsEnded = (await config.sessions.endAll(uid, now)).length
    const deleted = uid ? row.deletes(found) : []
    if (uid && deleted.length) {
      await config.sessions.updateProfile(
        uid,
        {
          ...(deleted.includes('nickname') ? { nickname: null } : {}),
          ...(deleted.includes('avatar') ? { avatar: null } : {}),
        },
        now,
      )
    }
    const event = {
      ...found,
      appId,
      uid,
      sessionsEnded,
      deleted,
      raw: Object.freeze({ ...fields }),
    } as AuthorizationEvent
    for (const hook of row.hooks(hooks, found)) await hook(event, c)
    if (row.after === 'user' && uid) await forgetUser(flow, uid, appId, found.openid, 'wechat')
  })
}

/**
 * Acts on the event `id` once, however its deliveries overlap: claimed
 * before anything is done. A delivery that finds it claimed by another one
 * answers `WECHAT_EVENT_IN_PROGRESS` (503: WeChat retries, and the retry
 * finds it done); a run that throws lets it go, so that the retry redoes it;
 * one done is marked for the replay window.
 */
async function once(
  push: PushSettings,
  id: string[],
  now: number,
  act: () => Promise<void>,
): Promise<'success'> {
  const claim = await push.claims.claim(id, now)
  if (claim.state === 'done') return 'success'
  if (claim.state === 'busy') throw new WxaAuthError('WECHAT_EVENT_IN_PROGRESS')
  try {
    await act()
  } catch (err) {
    await claim.release(now).catch(() => {})
    throw err
  }
  await claim.done(now)
  return 'success'
}

/** The app a push is for: sealed with it in safe mode, or named by its field; one of our WeChat apps. */
function pushedFor(
  config: Flow<{ id: string }>['config'],
  sealedFor: string | undefined,
  named: string | undefined,
) {
  if (sealedFor !== undefined && named !== undefined && named !== sealedFor) {
    throw rejected('the AppID field differs from the AppID sealed with it')
  }
  const appId = sealedFor ?? named
  if (!appId || config.apps.get(appId)?.platform !== 'wechat') throw new WxaAuthError('UNKNOWN_APP')
  return appId
}

/**
 * The verdict of an avatar's image check: a risky one deletes the avatar it
 * names (a later avatar of the user is left alone); each verdict is acted on once.
 */
async function receiveMediaCheck<User extends { id: string }>(
  flow: Flow<User>,
  push: PushSettings,
  checked: MediaCheckResult,
  sealedFor: string | undefined,
): Promise<'success'> {
  const { config, now } = flow
  const appId = pushedFor(config, sealedFor, checked.appId)
  const id = [appId, 'wxa_media_check', checked.trace]
  return once(push, id, now, async () => {
    const pending = await config.mediaChecks.get(appId, checked.trace)
    if (pending) {
      await config.sessions.updateProfile(
        pending.uid,
        { avatarChecked: { trace: checked.trace, result: checked.suggest } },
        now,
      )
      if (checked.suggest !== 'pass') {
        flow.log.warn(
          `wxa-auth: an avatar was checked ${checked.suggest} by WeChat${checked.suggest === 'risky' ? ' and deleted' : ''} (user ${pending.uid})`,
        )
      }
      await config.mediaChecks.delete(appId, checked.trace)
    }
  })
}
