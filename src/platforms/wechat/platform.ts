import * as v from 'valibot'
import { sealedData } from '../data-crypto'
import type { PlatformApp, PlatformDefinition } from '../platform'
import { configuredApps } from '../variables'
import { accessTokenCache } from './access-token'
import { wechatAuthRoutes } from './authorize'
import { createWeChatClient } from './client'
import { cloudCaller, cloudHosting, OPEN_API_BASE, openApi } from './cloud-hosting'
import { oauthApps } from './oauth'
import { type PushSettings, pushSettings } from './push-settings'
import { wechatRoutes } from './routes'
import { getUnlimitedCode } from './scan-code'

/** Seconds within which an OAuth code posted again gets its first login's answer back. */
export const CODE_REPLAY_SECONDS = 60

const APP_ID = /^wx[\w-]{1,40}$/
/** WeChat's AppSecret (小程序密钥, 开发管理 → 开发设置): 32 hexadecimal characters. */
const APP_SECRET = /^[0-9a-f]{32}$/i

/**
 * WeChat: `WECHAT_APP_ID` (several separated by spaces), `WECHAT_APP_SECRET`
 * or `WECHAT_APP_SECRETS`, `WECHAT_API_BASE`, `WECHAT_TIMEOUT_MS`. Each app
 * has code2Session, the shared data crypto, the phone number and
 * checkSessionKey through the stable access token (cached in KV), or with
 * `WECHAT_OPEN_API=cloud-hosting` through Cloud Hosting's open interface
 * service with no token (at `WECHAT_API_BASE` when set, for tests); the
 * AppSecret is then optional, and without it no code is taken (`NOT_OFFERED`).
 */
export const wechat: PlatformDefinition<'wechat', PushSettings> = {
  name: 'wechat',
  apps(vars, context) {
    const { kv, log, upstream } = context
    const shape = 'wx followed by letters and digits'
    const viaOpenApi = openApi(vars)
    const miniPrograms = configuredApps(vars, 'WECHAT', {
      pattern: APP_ID,
      shape,
      secret: {
        pattern: APP_SECRET,
        shape:
          "32 hexadecimal characters, as the mini program admin's 开发管理 → 开发设置 shows it",
      },
      upstream,
      // The open interface service needs none; only code2Session does.
      secretOptional: viaOpenApi,
    }).map((app): PlatformApp<'wechat'> => {
      const { appId } = app
      const options = {
        ...app.client,
        ...(viaOpenApi ? { openApiBase: app.client.baseUrl ?? OPEN_API_BASE } : {}),
      }
      const client = createWeChatClient(options)
      // The open interface service adds the token itself: none is fetched, none sent.
      const tokens = viaOpenApi
        ? { withToken: <T>(use: (token: string) => Promise<T>) => use('') }
        : accessTokenCache({ kv, wechat: client, appId, log })
      return {
        platform: 'wechat' as const,
        appId,
        code2Session: ({ code }) => client.code2Session(code),
        ...sealedData(appId),
        phone: (code, openid) =>
          tokens.withToken((token) => client.getPhoneNumber(token, code, openid)),
        checkSessionKey: (openid, sessionKey) =>
          tokens.withToken((token) => client.checkSessionKey(token, openid, sessionKey)),
        resetSessionKey: (openid, sessionKey) =>
          tokens.withToken((token) => client.resetSessionKey(token, openid, sessionKey)),
        checkText: (content, openid) =>
          tokens.withToken((token) => client.checkText(token, content, openid)),
        checkImage: (url, openid) =>
          tokens.withToken((token) => client.checkImage(token, url, openid)),
        miniProgramCode: (input) =>
          tokens.withToken((token) => getUnlimitedCode(options, token, input)),
      }
    })
    return [...miniPrograms, ...oauthApps(vars, context)]
  },
  logins: {
    code: { input: {} },
    // CLOUD_HOSTING=wechat: a login without a code is the user Cloud Hosting's gateway names.
    'trusted-headers': {
      input: {},
      headers: { on: (vars) => cloudHosting(vars) !== undefined, caller: cloudCaller },
    },
    // An Official Account page, a website or an App: an OAuth code (and the state of the redirect).
    oauth: {
      input: {
        state: v.optional(
          v.pipe(
            v.string(),
            v.maxLength(128),
            v.description(
              'The state WeChat passed back to the redirect page (Official Account page, website).',
            ),
          ),
        ),
      },
      replay: CODE_REPLAY_SECONDS,
    },
  },
  settings: (vars, { claims }) => pushSettings(vars, claims),
  // `/wechat/events`: the message push.
  routes: wechatRoutes,
  // `/auth/wechat/authorize`: the browser flows' redirect to WeChat.
  authRoutes: wechatAuthRoutes,
}
