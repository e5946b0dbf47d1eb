import {
  type ErrorTable,
  platformError,
  platformSession,
  type Refusal,
  type UpstreamCall,
} from './caller'
import type { PlatformSession } from './platform'

// WeChat's code2Session, which QQ copies to the letter: the same path, query
// and errcodes, on its own host.
// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html

/** What an errcode-shaped API answers when a call fails. Only errors carry a non-zero `errcode`. */
export type ErrcodeBody = { errcode: number; errmsg?: string }

/** code2Session's errcodes, the same on WeChat and QQ. */
export const JSCODE2SESSION_ERRCODES: ErrorTable = {
  40029: { code: 'CODE_INVALID' },
  40163: { code: 'CODE_USED' },
  40226: { code: 'USER_BLOCKED' },
  45011: { code: 'UPSTREAM_RATE_LIMITED', retryAfter: 60 },
  40013: { code: 'APP_CREDENTIALS_INVALID' },
  40125: { code: 'APP_CREDENTIALS_INVALID' },
  [-1]: { code: 'UPSTREAM_UNAVAILABLE', retryAfter: 5 },
}

export function isErrcodeBody(body: object): body is ErrcodeBody {
  return typeof (body as ErrcodeBody).errcode === 'number' && (body as ErrcodeBody).errcode !== 0
}

/** Reads an errcode-shaped answer: a refusal when `errcode` is non-zero (-1: busy). */
export const errcodeRefusal =
  (table: ErrorTable, api: string) =>
  (body: Record<string, unknown>): Refusal | undefined =>
    isErrcodeBody(body)
      ? {
          error: platformError(table, api, 'errcode', body.errcode, body.errmsg),
          busy: body.errcode === -1,
        }
      : undefined

/**
 * `GET /sns/jscode2session`: a login code exchanged for the user's openid,
 * session_key and unionid. Spends the code: never retried after an answer
 * that may have spent it.
 */
export async function jscode2session(
  call: UpstreamCall,
  {
    appId,
    appSecret,
    table = JSCODE2SESSION_ERRCODES,
  }: { appId: string; appSecret: string; table?: ErrorTable },
  code: string,
): Promise<PlatformSession> {
  const body = await call('code2Session', {
    path: '/sns/jscode2session',
    query: { appid: appId, secret: appSecret, js_code: code, grant_type: 'authorization_code' },
    singleUse: true,
    refusal: errcodeRefusal(table, 'code2Session'),
  })
  return platformSession('code2Session', body)
}
