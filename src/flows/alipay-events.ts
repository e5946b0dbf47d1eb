import { WxaAuthError } from '../errors'
import { defaultUserId } from '../hooks'
import { isAlipayApp, USER_ID_PREFIX } from '../platforms/alipay/platform'
import { pushClaims } from '../platforms/wechat/push-claims'
import type { Flow } from './context'
import { forgetUser } from './forget'

/** Alipay's message that a user cancelled the app's authorization (用户授权取消). */
export const ALIPAY_CANCELLED = 'alipay.open.auth.userauth.cancelled'
/**
 * How long a notification's claim is kept: Alipay retries a notification not
 * answered `success` for about 25 hours (4 m, 10 m, 10 m, 1 h, 2 h, 6 h, 15 h).
 */
export const DEFAULT_NOTIFY_CLAIM_TTL = 26 * 60 * 60 // 26 hours, seconds
const MAX_NOTIFY_AGE = 25 * 60 * 60 // seconds: older ones are acknowledged, not acted on

const rejected = (check: string) =>
  new WxaAuthError('EVENT_SIGNATURE_INVALID', undefined, { cause: new Error(check) })

/** The user a cancellation's `biz_content` names, keyed as the login keys them. */
function cancelledUser(bizContent: string | undefined): string {
  let biz: { open_id?: unknown; user_id?: unknown } | undefined
  try {
    biz = JSON.parse(bizContent ?? '')
  } catch {}
  if (typeof biz?.open_id === 'string' && biz.open_id) return biz.open_id
  if (typeof biz?.user_id === 'string' && biz.user_id) return `${USER_ID_PREFIX}${biz.user_id}`
  throw new WxaAuthError('INVALID_REQUEST', 'biz_content names no open_id or user_id.')
}

/**
 * A notification Alipay posted to the app's gateway (应用网关): checked with
 * Alipay's public key (401 `EVENT_SIGNATURE_INVALID` otherwise, and nothing
 * happens); a cancellation forgets the user as WeChat's
 * `user_authorization_cancellation` does (every session ends,
 * `onAccountCancelled` hears of it, the identity goes), once per `notify_id`.
 * Any other message is acknowledged and ignored.
 *
 * @returns Alipay's expected answer, `success`
 */
export async function receiveAlipayNotify<User extends { id: string }>(
  flow: Flow<User>,
  fields: Record<string, string>,
): Promise<'success'> {
  const { config, hooks, now, c } = flow
  const apps = [...config.apps.values()].filter(isAlipayApp)
  if (apps.length === 0) throw new WxaAuthError('NOT_FOUND')
  if (!fields.sign) throw rejected('no sign')
  const app = apps.find((a) => a.appId === fields.app_id)
  if (!app) throw rejected('app_id is not one of ours')
  if (!(await app.verifyNotify(fields))) throw rejected('sign does not verify')
  if (fields.msg_method !== ALIPAY_CANCELLED) return 'success'
  const notifyId = fields.notify_id
  if (!notifyId) throw new WxaAuthError('INVALID_REQUEST', 'notify_id is missing.')
  const sentAt = Number(fields.utc_timestamp) / 1000
  if (Number.isFinite(sentAt) && now - sentAt > MAX_NOTIFY_AGE) return 'success'
  const openid = cancelledUser(fields.biz_content)
  const { appId } = app

  const claims = pushClaims(config.claims, {
    secret: `wxa-auth alipay notify:${appId}`,
    ttl: DEFAULT_NOTIFY_CLAIM_TTL,
  })
  const claim = await claims.claim(['alipay', notifyId], now)
  if (claim.state === 'done') return 'success'
  if (claim.state === 'busy') throw new WxaAuthError('WECHAT_EVENT_IN_PROGRESS')
  try {
    const identity = await config.identities.get(appId, openid, 'alipay')
    const uid =
      identity?.uid ??
      (!flow.ownUsers && config.identity === 'openid'
        ? await defaultUserId(appId, openid, 'alipay')
        : null)
    const sessionsEnded = uid ? (await config.sessions.endAll(uid, now)).length : 0
    await hooks.onAccountCancelled(
      {
        event: 'user_authorization_cancellation',
        appId,
        openid,
        createTime: Number.isFinite(sentAt) ? Math.floor(sentAt) : now,
        uid,
        sessionsEnded,
        deleted: [],
        raw: Object.freeze({ ...fields }),
      },
      c,
    )
    if (uid) await forgetUser(flow, uid, appId, openid, 'alipay')
  } catch (err) {
    await claim.release(now).catch(() => {})
    throw err
  }
  await claim.done(now)
  return 'success'
}
