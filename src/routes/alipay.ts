import { Hono } from 'hono/tiny'
import { WxaAuthError } from '../errors'
import { receiveAlipayNotify } from '../flows/alipay-events'
import { limitBody } from '../middleware/body-limit'
import { describe } from '../openapi/describe'
import type { ResolvedOptions } from '../options'
import { flowOf } from './flow'
import { EventAnswer } from './schemas'

/**
 * Alipay's application gateway (应用网关): `POST /events` takes the
 * notifications Alipay posts, form-encoded and RSA2-signed. Mounted before
 * the session middleware, at `/alipay`: notifications carry no token. @internal
 */
export function alipayRoutes<User extends { id: string }>(resolved: ResolvedOptions<User>) {
  const routes = new Hono()
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
      response: EventAnswer,
      responseType: 'text/plain',
      errors: [
        'NOT_FOUND',
        'EVENT_SIGNATURE_INVALID',
        'INVALID_REQUEST',
        'PAYLOAD_TOO_LARGE',
        'WECHAT_EVENT_IN_PROGRESS',
        'STORAGE_UNAVAILABLE',
        'STORAGE_OUTCOME_UNKNOWN',
      ],
    }),
    limitBody(),
    async (c) => {
      const type = c.req.header('content-type') ?? ''
      if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
        throw new WxaAuthError('INVALID_REQUEST', 'A notification is form-encoded.')
      }
      const fields = Object.fromEntries(
        new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer())),
      )
      return c.text(await receiveAlipayNotify(flowOf(resolved, c), fields))
    },
  )
  return routes
}
