import { decryptData, verifySignature } from '../data-crypto'
import type { PlatformApp, PlatformDefinition } from '../platform'
import { apiBase, appSecrets, whole } from '../variables'
import { accessTokenCache } from './access-token'
import { createWeChatClient, DEFAULT_TIMEOUT_MS } from './client'

const APP_ID = /^wx[\w-]{1,40}$/
/** WeChat's AppSecret (小程序密钥, 开发管理 → 开发设置): 32 hexadecimal characters. */
const APP_SECRET = /^[0-9a-f]{32}$/i

/**
 * WeChat: `WECHAT_APP_ID` (several separated by spaces), `WECHAT_APP_SECRET`
 * or `WECHAT_APP_SECRETS`, `WECHAT_API_BASE`, `WECHAT_TIMEOUT_MS`. Each app
 * has code2Session, the shared data crypto, the phone number and
 * checkSessionKey through the stable access token (cached in KV).
 */
export const wechat: PlatformDefinition = {
  name: 'wechat',
  apps(vars, { kv, log, upstream }) {
    const secrets = appSecrets(vars, 'WECHAT', {
      pattern: APP_ID,
      shape: 'wx followed by letters and digits',
      secret: {
        pattern: APP_SECRET,
        shape:
          "32 hexadecimal characters, as the mini program admin's 开发管理 → 开发设置 shows it",
      },
      ...(upstream ? { standIn: upstream.appSecret, defaultAppId: upstream.defaultAppId } : {}),
    })
    const timeoutMs = whole(vars, 'WECHAT_TIMEOUT_MS', 1, DEFAULT_TIMEOUT_MS)
    const baseUrl = apiBase(vars, 'WECHAT_API_BASE')
    return [...secrets].map(([appId, appSecret]): PlatformApp => {
      const client = createWeChatClient({
        appId,
        appSecret,
        timeoutMs,
        ...(baseUrl ? { baseUrl } : {}),
        ...(upstream ? { fetch: upstream.fetch } : {}),
      })
      const tokens = accessTokenCache({ kv, wechat: client, appId, log })
      return {
        platform: 'wechat',
        appId,
        code2Session: ({ code }) => client.code2Session(code),
        decrypt: (input) => decryptData({ ...input, appId }),
        verifyRawData: (input) => verifySignature(input),
        phone: (code, openid) =>
          tokens.withToken((token) => client.getPhoneNumber(token, code, openid)),
        checkSessionKey: (openid, sessionKey) =>
          tokens.withToken((token) => client.checkSessionKey(token, openid, sessionKey)),
        resetSessionKey: (openid, sessionKey) =>
          tokens.withToken((token) => client.resetSessionKey(token, openid, sessionKey)),
      }
    })
  },
}
