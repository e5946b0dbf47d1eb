import type { Hono } from 'hono'
import * as v from 'valibot'
import { WxaAuthError } from '../../errors'
import { limitBody } from '../../middleware/body-limit'
import { describe } from '../../openapi/describe'
import type { PlatformRoutesContext } from '../platform'
import type { PushClaims } from '../wechat/push-claims'
import { type AlipayApp, isAlipayApp, USER_ID_PREFIX } from './app'

/** Alipay's message that a user cancelled the app's authorization (用户授权取消). */
export const ALIPAY_CANCELLED = 'alipay.open.auth.userauth.cancelled'
/** Seconds after which a notification is acknowledged and not acted on: Alipay retries for about 25 hours. */
const MAX_NOTIFY_AGE = 25 * 60 * 60

/** What Alipay expects back. */
const NotifyAnswer = v.literal('success')

/** What `/alipay/events` needs: the claims of the notifications acted on. */
export interface AlipaySettings {
  claims: PushClaims
}

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

/** The app a notification is for, once its signature checks out with Alipay's key. */
async function verified(apps: ReadonlyMap<string, unknown>, fields: Record<string, string>) {
  if (!fields.sign) throw rejected('no sign')
  const app = apps.get(fields.app_id ?? '') as AlipayApp | undefined
  if (!isAlipayApp(app)) throw rejected('app_id is not one of ours')
  if (!(await app.verifyNotify(fields))) throw rejected('sign does not verify')
  return app
}

/**
 * Alipay's application gateway (应用网关): `POST /alipay/events` takes the
 * notifications Alipay posts, form-encoded and RSA2-signed over every field
 * but `sign` and `sign_type` (401 `EVENT_SIGNATURE_INVALID` otherwise, and
 * nothing happens). A cancellation forgets the user as WeChat's
 * `user_authorization_cancellation` does, once per `notify_id`; any other
 * message is acknowledged. 404 without an Alipay app. @internal
 */
export function alipayRoutes(routes: Hono, context: PlatformRoutesContext<AlipaySettings>): void {
  routes.post(
    '/events',
    describe({
      tag: 'alipay',
      summary: 'A notification posted by Alipay (application gateway)',
      description:
        'Form-encoded, signed by Alipay (RSA2 over every field but sign and sign_type). alipay.open.auth.userauth.cancelled forgets the user, as a WeChat cancellation does, once per notify_id; other messages are acknowledged. Answers success (text/plain). 401 EVENT_SIGNATURE_INVALID when the signature is missing or wrong; 404 without an Alipay app.',
      auth: false,
      content: {
        'application/x-www-form-urlencoded': {
          type: 'object',
          properties: {
            notify_id: { type: 'string' },
            msg_method: { type: 'string' },
            app_id: { type: 'string' },
            utc_timestamp: { type: 'string' },
            biz_content: { type: 'string' },
            sign_type: { type: 'string' },
            sign: { type: 'string' },
          },
        },
      },
      response: NotifyAnswer,
      responseType: 'text/plain',
      errors: [
        'NOT_FOUND',
        'EVENT_SIGNATURE_INVALID',
        'INVALID_REQUEST',
        'PAYLOAD_TOO_LARGE',
        'EVENT_IN_PROGRESS',
        'STORAGE_UNAVAILABLE',
        'STORAGE_OUTCOME_UNKNOWN',
      ],
    }),
    limitBody(),
    async (c) => {
      const { apps, settings, now } = context.request(c)
      if (!settings) throw new WxaAuthError('NOT_FOUND')
      if (!/^application\/x-www-form-urlencoded\b/i.test(c.req.header('content-type') ?? '')) {
        throw new WxaAuthError('INVALID_REQUEST', 'A notification is form-encoded.')
      }
      const body = new TextDecoder().decode(await c.req.arrayBuffer())
      const fields = Object.fromEntries(new URLSearchParams(body))
      const app = await verified(apps, fields)
      if (fields.msg_method !== ALIPAY_CANCELLED) return c.text('success')
      const notifyId = fields.notify_id
      if (!notifyId) throw new WxaAuthError('INVALID_REQUEST', 'notify_id is missing.')
      const sentAt = Number(fields.utc_timestamp) / 1000
      if (Number.isFinite(sentAt) && now - sentAt > MAX_NOTIFY_AGE) return c.text('success')
      const openid = cancelledUser(fields.biz_content)
      const claim = await settings.claims.claim(['alipay', app.appId, notifyId], now)
      if (claim.state === 'busy') throw new WxaAuthError('EVENT_IN_PROGRESS')
      if (claim.state === 'ours') {
        try {
          await context.act(c, {
            platform: 'alipay',
            appId: app.appId,
            openid,
            endSessions: true,
            hooks: ['onAccountCancelled'],
            event: {
              event: 'user_authorization_cancellation',
              createTime: Number.isFinite(sentAt) ? Math.floor(sentAt) : now,
              raw: Object.freeze({ ...fields }),
            },
            forget: true,
          })
        } catch (err) {
          await claim.release(now).catch(() => {})
          throw err
        }
        await claim.done(now)
      }
      return c.text('success')
    },
  )
}
