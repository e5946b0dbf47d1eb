// WeChat's privacy guide (always on since 2023-10-17): a privacy API such as
// getPhoneNumber, chooseAvatar or getLocation fails with errno 104 until the
// user agrees to the guide, and with errno 112 when the admin's guide does not
// declare that scope. These turn both into WxaClientErrors, and wrap the
// agree-then-retry flow.
import { WxaClientError } from './errors'

/** errno of a privacy API: the user has not agreed to the privacy guide. */
export const ERRNO_PRIVACY_NOT_AGREED = 104
/** errno of a privacy API: the mini program's privacy guide does not declare the scope. */
export const ERRNO_PRIVACY_SCOPE_MISSING = 112

/** What a WeChat API's `fail` or a button's `event.detail` carries. */
export interface PlatformFailure {
  errno?: number
  errMsg?: string
}

/** The part of `wx` (or `uni`, `Taro`) the privacy helpers call. */
export interface PrivacyApi {
  requirePrivacyAuthorize(option: {
    success?: () => void
    fail?: (error: PlatformFailure) => void
  }): unknown
}

/**
 * `PRIVACY_NOT_AGREED` (errno 104) or `PRIVACY_SCOPE_MISSING` (errno 112) for
 * a failure of a privacy API or a button's `event.detail`; undefined for any
 * other failure.
 *
 * @example
 * ```js
 * onChooseAvatar(e) { const err = privacyError(e.detail); if (err) return show(err.code) }
 * ```
 */
export function privacyError(failure: unknown): WxaClientError | undefined {
  const { errno, errMsg = '' } = (failure ?? {}) as PlatformFailure
  if (errno === ERRNO_PRIVACY_NOT_AGREED) {
    return new WxaClientError(
      'PRIVACY_NOT_AGREED',
      `The user has not agreed to the privacy guide: ${errMsg}`,
      { cause: failure },
    )
  }
  if (errno === ERRNO_PRIVACY_SCOPE_MISSING) {
    return new WxaClientError(
      'PRIVACY_SCOPE_MISSING',
      `The privacy guide in the admin console does not declare this scope: ${errMsg}`,
      { cause: failure },
    )
  }
  return undefined
}

/** `wx.requirePrivacyAuthorize`, as a promise; rejects when the user declines. */
function requireAuthorize(api: PrivacyApi): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const returned = api.requirePrivacyAuthorize({
      success: () => resolve(),
      fail: (error) => reject(error),
    }) as Promise<unknown> | undefined
    // Taro's promise style answers by its promise as well.
    if (returned && typeof returned.then === 'function') returned.then(() => resolve(), reject)
  })
}

/**
 * Runs `call`, a privacy API (e.g. `() => wx.getLocation({ type: 'gcj02' })`).
 * When it fails with errno 104 it asks for the user's agreement with
 * `wx.requirePrivacyAuthorize` (your `wx.onNeedPrivacyAuthorization` listener
 * shows the guide, or WeChat's own pop-up when there is none) and, once the
 * user agrees, runs `call` once more. Rejects with `PRIVACY_NOT_AGREED` when
 * the user declines, `PRIVACY_SCOPE_MISSING` on errno 112 (the admin must add
 * the scope to the guide: not retried), and any other failure as it is.
 *
 * @param api the runtime: default the global `wx`; `uni` or `Taro` work too
 */
export async function withPrivacy<T>(call: () => Promise<T>, api?: PrivacyApi): Promise<T> {
  try {
    return await call()
  } catch (failure) {
    const error = privacyError(failure)
    if (error?.code !== 'PRIVACY_NOT_AGREED') throw error ?? failure
    const runtime = api ?? (globalThis as unknown as { wx: PrivacyApi }).wx
    try {
      await requireAuthorize(runtime)
    } catch (declined) {
      throw new WxaClientError('PRIVACY_NOT_AGREED', 'The user declined the privacy guide.', {
        cause: declined,
      })
    }
    try {
      return await call()
    } catch (again) {
      throw privacyError(again) ?? again
    }
  }
}
