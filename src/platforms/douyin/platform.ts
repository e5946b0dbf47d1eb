import * as v from 'valibot'
import { sealedData } from '../data-crypto'
import { codeField } from '../login-kind'
import type { PlatformApp, PlatformDefinition } from '../platform'
import { configuredApps } from '../variables'
import { createDouyinClient } from './client'

// As the console shows them: `tt` and 16 hex digits; any letters and digits are taken.
const APP_ID = /^tt[\w-]{1,40}$/

/**
 * Douyin (and the other Toutiao hosts): `DOUYIN_APP_ID`, `DOUYIN_APP_SECRET`
 * or `DOUYIN_APP_SECRETS`, `DOUYIN_API_BASE`, `DOUYIN_TIMEOUT_MS`. Each app
 * has code2Session (with the `anonymousCode`) and the shared data crypto.
 * No phone number here (Douyin's needs an RSA key pair of the app's own) and
 * no checkSessionKey (Douyin's server API has none).
 */
export const douyin: PlatformDefinition<'douyin'> = {
  name: 'douyin',
  apps(vars, { upstream }) {
    const shape = 'tt followed by letters and digits'
    return configuredApps(vars, 'DOUYIN', { pattern: APP_ID, shape, upstream }).map(
      ({ appId, client }): PlatformApp<'douyin'> => {
        const douyinClient = createDouyinClient(client)
        return {
          platform: 'douyin',
          appId,
          code2Session: ({ code, anonymousCode }) =>
            douyinClient.code2Session({
              code,
              anonymousCode: typeof anonymousCode === 'string' ? anonymousCode : undefined,
            }),
          ...sealedData(appId),
        }
      },
    )
  },
  logins: {
    code: {
      input: {
        anonymousCode: v.optional(
          codeField(
            "Douyin: tt.login's anonymousCode, beside the code; the login then also reports the user's anonymous openid. Ignored on the other platforms.",
          ),
        ),
      },
    },
  },
}
