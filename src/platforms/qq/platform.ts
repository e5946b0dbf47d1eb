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
export const qq: PlatformDefinition = {
  name: 'qq',
  apps(vars, { upstream }) {
    const apps = configuredApps(vars, 'QQ', { pattern: APP_ID, shape: 'digits', upstream })
    return apps.map(({ appId, appSecret, transport }): PlatformApp => {
      const client = createQQClient({ appId, appSecret, ...transport })
      return {
        platform: 'qq',
        appId,
        code2Session: ({ code }) => client.code2Session(code),
        ...sealedData(appId),
      }
    })
  },
}
