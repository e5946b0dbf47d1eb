// WeChat Cloud Hosting (微信云托管): the mode in which the gateway's X-WX-*
// headers name the user, and its open interface service (开放接口服务).
// https://developers.weixin.qq.com/miniprogram/dev/wxcloudrun/src/development/weixin/
// https://developers.weixin.qq.com/miniprogram/dev/wxcloudrun/src/guide/weixin/open.html
import type { Variables } from '../../env'
import { WxaAuthError } from '../../errors'
import type { TrustedCaller } from '../platform'
import { text } from '../variables'

/** The variable Cloud Hosting sets in every container of a service: its environment's id. */
export const CLOUD_HOSTING_ENV_ID = 'CBR_ENV_ID'

/** Where the open interface service relays WeChat's server API, without an access token. */
export const OPEN_API_BASE = 'http://api.weixin.qq.com'

/** The Cloud Hosting mode, `CLOUD_HOSTING=wechat`: the environment the container runs in. */
export interface CloudHosting {
  /** `CBR_ENV_ID`. */
  envId: string
}

/**
 * `CLOUD_HOSTING`: unset, or `wechat`. The mode is refused where nothing says
 * the process runs in Cloud Hosting (`CBR_ENV_ID` unset): outside it, anyone
 * who reaches the server can send any `X-WX-OPENID`. The variable proves the
 * container, not that its public domain is off; that is the operator's part.
 *
 * @throws WxaAuthError `CONFIG_INVALID`
 */
export function cloudHosting(vars: Variables): CloudHosting | undefined {
  const mode = text(vars, 'CLOUD_HOSTING')
  if (mode === undefined) return undefined
  if (mode !== 'wechat') {
    throw new WxaAuthError('CONFIG_INVALID', 'CLOUD_HOSTING must be wechat, or unset.')
  }
  const envId = text(vars, CLOUD_HOSTING_ENV_ID)
  if (!envId) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      `CLOUD_HOSTING=wechat, but ${CLOUD_HOSTING_ENV_ID} is not set: WeChat Cloud Hosting sets it in every container. Elsewhere anyone can send X-WX-OPENID: unset CLOUD_HOSTING.`,
    )
  }
  return { envId }
}

/**
 * `WECHAT_OPEN_API`: unset (WeChat's API over https with the stable access
 * token), or `cloud-hosting` (the open interface service, over http, with no
 * token), which exists only inside Cloud Hosting.
 *
 * @throws WxaAuthError `CONFIG_INVALID`
 */
export function openApi(vars: Variables): boolean {
  const value = text(vars, 'WECHAT_OPEN_API')
  if (value === undefined) return false
  if (value !== 'cloud-hosting') {
    throw new WxaAuthError('CONFIG_INVALID', 'WECHAT_OPEN_API must be cloud-hosting, or unset.')
  }
  if (!cloudHosting(vars)) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'WECHAT_OPEN_API=cloud-hosting needs CLOUD_HOSTING=wechat: the open interface service runs only beside a Cloud Hosting service.',
    )
  }
  return true
}

const ID = /^[\w-]{1,128}$/

/** Who WeChat's gateway says sent a `callContainer` request; `appId` is `X-WX-APPID`, or under resource reuse `X-WX-FROM-APPID`. */
export type CloudCaller = TrustedCaller

/**
 * The user the gateway's headers name (names are case-insensitive). Under
 * resource reuse (资源复用: another mini program of the same entity uses this
 * environment) the gateway sends `X-WX-FROM-OPENID`, `X-WX-FROM-APPID` and
 * `X-WX-FROM-UNIONID` instead: the user of that mini program.
 *
 * @throws WxaAuthError `CLOUD_IDENTITY_MISSING` without `X-WX-SOURCE` (WeChat's
 * documented sign of a request from WeChat), an openid or an AppID
 */
export function cloudCaller(headers: Headers): CloudCaller {
  const header = (name: string) => headers.get(name)?.trim() || undefined
  if (!header('X-WX-SOURCE')) {
    throw new WxaAuthError(
      'CLOUD_IDENTITY_MISSING',
      'No X-WX-SOURCE: the request did not come through wx.cloud.callContainer.',
    )
  }
  const prefix = header('X-WX-FROM-OPENID') ? 'X-WX-FROM-' : 'X-WX-'
  const openid = header(`${prefix}OPENID`)
  const appId = header(`${prefix}APPID`)
  const unionid = header(`${prefix}UNIONID`)
  // WeChat's ids are short and URL-safe; anything else did not come from its gateway.
  if (!openid || !appId || ![openid, appId, unionid ?? 'x'].every((id) => ID.test(id))) {
    throw new WxaAuthError('CLOUD_IDENTITY_MISSING')
  }
  return { appId, openid, ...(unionid ? { unionid } : {}) }
}
