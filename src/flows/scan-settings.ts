import { WxaAuthError } from '../errors'
import { text, whole } from '../util/variables'

export const DEFAULT_SCAN_TTL = 5 * 60 // seconds a scan-to-login ticket waits for its confirmation
export const MAX_SCAN_TTL = 30 * 60 // seconds
/** A mini program page as getwxacodeunlimit takes it: no leading slash, no query. */
const PAGE = /^[\w-]+(\/[\w.-]+)*$/

/** How scan-to-login (小程序扫码登录) runs: the ticket's life and the page the code opens. */
export interface ScanSettings {
  /** Seconds a ticket lives (`SCAN_TTL_SECONDS`, 30 to 1800, default 300). */
  ttl: number
  /** The page the code opens (`WECHAT_SCAN_PAGE`); unset: the home page. */
  page: string | undefined
  /** Which version of the mini program opens (`WECHAT_SCAN_ENV_VERSION`, default release). */
  envVersion: 'release' | 'trial' | 'develop'
}

/** The scan settings from the variables; `CONFIG_INVALID` naming the one at fault. */
export function scanSettings(vars: Readonly<Record<string, unknown>>): ScanSettings {
  const ttl = whole(vars, 'SCAN_TTL_SECONDS', 30, DEFAULT_SCAN_TTL)
  if (ttl > MAX_SCAN_TTL) {
    throw new WxaAuthError('CONFIG_INVALID', `SCAN_TTL_SECONDS must be at most ${MAX_SCAN_TTL}.`)
  }
  const page = text(vars, 'WECHAT_SCAN_PAGE')
  if (page !== undefined && !PAGE.test(page)) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'WECHAT_SCAN_PAGE must be a page path such as pages/scan/index: no leading slash, no query.',
    )
  }
  const envVersion = text(vars, 'WECHAT_SCAN_ENV_VERSION') ?? 'release'
  if (envVersion !== 'release' && envVersion !== 'trial' && envVersion !== 'develop') {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'WECHAT_SCAN_ENV_VERSION must be release, trial or develop.',
    )
  }
  return { ttl, page, envVersion }
}
