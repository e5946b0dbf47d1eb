import { sealedData } from '../data-crypto'
import type { PlatformApp, PlatformDefinition } from '../platform'
import { configuredApps } from '../variables'
import { createQQClient } from './client'

// QQ AppIDs are numbers, e.g. 1112345678.
const APP_ID = /^[1-9][0-9]{4,19}$/

/**
 * QQ: `QQ_APP_ID`, `QQ_APP_SECRET` or `QQ_APP_SECRETS`, `QQ_API_BASE`,
 * `QQ_TIMEOUT_MS`. Each app has code2Session and the shared data crypto; QQ
 * documents no phone-number API and no checkSessionKey for mini programs.
 */
export const qq: PlatformDefinition<'qq'> = {
  name: 'qq',
  apps(vars, { upstream }) {
    return configuredApps(vars, 'QQ', { pattern: APP_ID, shape: 'digits', upstream }).map(
      ({ appId, client }): PlatformApp<'qq'> => {
        const qq = createQQClient(client)
        return {
          platform: 'qq',
          appId,
          code2Session: ({ code }) => qq.code2Session(code),
          ...sealedData(appId),
        }
      },
    )
  },
  logins: { code: { input: {} } },
}
