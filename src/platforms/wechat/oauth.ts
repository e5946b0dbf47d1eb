import type { Variables } from '../../env'
import { WxaAuthError } from '../../errors'
import {
  appCaller,
  badResponse,
  DEFAULT_TIMEOUT_MS,
  type ErrorTable,
  filled,
  type UpstreamCall,
} from '../caller'
import { errcodeRefusal } from '../jscode2session'
import type { PlatformApp, PlatformContext, PlatformSession } from '../platform'
import { apiBase, configuredApps, text, whole } from '../variables'
import { WECHAT_API_BASE } from './client'
import { type StateIssuer, stateIssuer } from './oauth-state'

/** The WeChat apps beside the mini program, by the variables' prefix: `WECHAT_OA_APP_ID`, … */
export const OAUTH_KINDS = {
  oa: {
    prefix: 'WECHAT_OA',
    adminPath: '公众号: 设置与开发 → 基本配置',
    door: 'oa',
    scopes: ['snsapi_base', 'snsapi_userinfo'],
    path: '/connect/oauth2/authorize',
  },
  web: {
    prefix: 'WECHAT_WEB',
    adminPath: '开放平台: 管理中心 → 网站应用',
    door: 'web',
    scopes: ['snsapi_login'],
    path: '/connect/qrconnect',
  },
  mobile: {
    prefix: 'WECHAT_MOBILE',
    adminPath: '开放平台: 管理中心 → 移动应用',
    door: 'app',
    scopes: [],
    path: undefined,
  },
} as const
export type OAuthKind = keyof typeof OAUTH_KINDS

const OPEN_BASE = 'https://open.weixin.qq.com'
const APP_ID = /^wx[\w-]{1,40}$/
const APP_SECRET = /^[0-9a-f]{32}$/i

/** `/sns/oauth2/access_token`'s and `/sns/userinfo`'s errcodes. */
const OAUTH_ERRCODES: ErrorTable = {
  40029: { code: 'CODE_INVALID' },
  40163: { code: 'CODE_INVALID' },
  40013: { code: 'APP_CREDENTIALS_INVALID' },
  40125: { code: 'APP_CREDENTIALS_INVALID' },
  45011: { code: 'UPSTREAM_RATE_LIMITED', retryAfter: 60 },
  [-1]: { code: 'UPSTREAM_UNAVAILABLE', retryAfter: 5 },
}

/**
 * `WECHAT_REDIRECT_URIS`: the pages WeChat may send a user back to, each an
 * http(s) URL without query or fragment, separated by spaces.
 */
export function redirectUris(vars: Variables): string[] {
  const entries = (text(vars, 'WECHAT_REDIRECT_URIS') ?? '').split(/\s+/).filter(Boolean)
  entries.forEach((entry, i) => {
    let url: URL | undefined
    try {
      url = new URL(entry)
    } catch {}
    if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.href !== entry) {
      throw new WxaAuthError(
        'CONFIG_INVALID',
        `WECHAT_REDIRECT_URIS: entry ${i + 1} is not an http(s) URL without query or fragment, written as a browser shows it (e.g. https://h5.example.com/login).`,
      )
    }
  })
  return entries
}

/** Whether `uri` is on the list: the same origin and path; a query is the page's own. */
function allowed(list: readonly string[], uri: string): boolean {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return false
  }
  if (url.hash || url.username || url.password) return false
  return list.includes(`${url.origin}${url.pathname}`)
}

/** The token answer, checked: a snapshot user is refused with nothing kept. */
async function exchange(
  call: UpstreamCall,
  appId: string,
  appSecret: string,
  code: string,
  userInfo: boolean,
): Promise<PlatformSession> {
  const refusal = errcodeRefusal(OAUTH_ERRCODES, 'oauth2/access_token')
  const token = await call('oauth2/access_token', {
    path: '/sns/oauth2/access_token',
    query: { appid: appId, secret: appSecret, code, grant_type: 'authorization_code' },
    singleUse: true,
    refusal,
  })
  const {
    openid,
    unionid,
    access_token: accessToken,
    is_snapshotuser: snapshot,
  } = token as Record<string, unknown>
  if (snapshot === 1) throw new WxaAuthError('SNAPSHOT_USER')
  if (!filled(openid) || !filled(accessToken)) {
    throw badResponse('oauth2/access_token: openid or access_token missing')
  }
  const session: PlatformSession = { openid, ...(filled(unionid) ? { unionid } : {}) }
  if (!userInfo) return session
  // The access token is used for this one call and dropped: never stored.
  const info = (await call('userinfo', {
    path: '/sns/userinfo',
    query: { access_token: accessToken, openid, lang: 'zh_CN' },
    refusal: errcodeRefusal(OAUTH_ERRCODES, 'userinfo'),
  })) as Record<string, unknown>
  const more = filled(info.unionid) && !session.unionid ? { unionid: info.unionid } : {}
  return {
    ...session,
    ...more,
    userInfo: {
      ...(filled(info.nickname) ? { nickName: info.nickname } : {}),
      ...(filled(info.headimgurl) ? { avatarUrl: info.headimgurl } : {}),
    },
  }
}

/**
 * The Official Accounts, website apps and mobile apps the variables
 * configure (`WECHAT_OA_*`, `WECHAT_WEB_*`, `WECHAT_MOBILE_*`: one each, or
 * several as `WECHAT_APP_ID` takes them), logging in by the `oauth` kind.
 */
export function oauthApps(vars: Variables, context: PlatformContext): PlatformApp<'wechat'>[] {
  const { upstream, claims } = context
  const uris = redirectUris(vars)
  const baseUrl = apiBase(vars, 'WECHAT_API_BASE')
  const transport = {
    timeoutMs: whole(vars, 'WECHAT_TIMEOUT_MS', 1, DEFAULT_TIMEOUT_MS),
    ...(baseUrl ? { baseUrl } : {}),
  }
  let states: StateIssuer | undefined
  const statesOf = () => {
    const secret = vars.STORAGE_SECRET
    if (typeof secret !== 'string' || !secret) throw new WxaAuthError('CONFIG_INVALID')
    states ??= stateIssuer(secret, claims)
    return states
  }
  return (Object.keys(OAUTH_KINDS) as OAuthKind[]).flatMap((kind) => {
    const { prefix, adminPath, door, scopes, path } = OAUTH_KINDS[kind]
    // In development each kind has the emulator, but only the AppIDs set: no default app.
    const configured = configuredApps(vars, prefix, {
      pattern: APP_ID,
      shape: 'wx followed by letters and digits',
      secret: { pattern: APP_SECRET, shape: `32 hexadecimal characters, as ${adminPath} shows it` },
      upstream: upstream && { ...upstream, defaultAppId: undefined },
    })
    return configured.map(({ appId, client: own }): PlatformApp<'wechat'> => {
      // WeChat's API is one host: the mini program's WECHAT_API_BASE and WECHAT_TIMEOUT_MS hold here too.
      const client = { ...own, ...transport }
      const call = appCaller('WeChat', client, WECHAT_API_BASE)
      return {
        platform: 'wechat',
        appId,
        loginKind: 'oauth',
        door,
        async code2Session({ code, state }) {
          if (kind === 'mobile') return exchange(call, appId, client.appSecret, code, true)
          const grant = await statesOf().use(
            typeof state === 'string' ? state : undefined,
            appId,
            Math.floor(Date.now() / 1000),
          )
          return exchange(call, appId, client.appSecret, code, grant.scope !== 'snsapi_base')
        },
        ...(path
          ? {
              async authorize({ redirectUri, scope, now, emulatorBase }) {
                if (!allowed(uris, redirectUri)) throw new WxaAuthError('REDIRECT_URI_INVALID')
                if (!(scopes as readonly string[]).includes(scope)) {
                  throw new WxaAuthError(
                    'INVALID_REQUEST',
                    `Invalid request: scope must be ${scopes.join(' or ')} for this app.`,
                  )
                }
                const state = await statesOf().issue({ appId, redirectUri, scope }, now)
                const query = new URLSearchParams({
                  appid: appId,
                  redirect_uri: redirectUri,
                  response_type: 'code',
                  scope,
                  state,
                })
                return `${upstream ? emulatorBase : OPEN_BASE}${path}?${query}#wechat_redirect`
              },
            }
          : {}),
      }
    })
  })
}
