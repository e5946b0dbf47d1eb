import type { PlatformApp } from '../platform'

/** What an `old` app's `user_id` becomes as an openid: never equal to an `open_id`. */
export const USER_ID_PREFIX = 'user_id:'

/** An Alipay app: a {@link PlatformApp} that also checks the notifications Alipay signs. */
export interface AlipayApp extends PlatformApp<'alipay'> {
  /** Whether a notification's form fields carry Alipay's signature (over all but `sign` and `sign_type`). */
  verifyNotify(fields: Record<string, string>): Promise<boolean>
}

/** Whether `app` is an Alipay app. */
export const isAlipayApp = (app: PlatformApp | undefined): app is AlipayApp =>
  app?.platform === 'alipay' && typeof (app as Partial<AlipayApp>).verifyNotify === 'function'
