/** The part of Alipay's `my` that gives a login code. */
export interface AuthCodeApi {
  getAuthCode(option: {
    scopes: string
    success?: (result: { authCode?: string }) => void
    fail?: (error: { error?: number; errorMessage?: string }) => void
  }): unknown
}

/** `my.getAuthCode({ scopes: 'auth_base' })`'s code: silent, no consent sheet. */
export const authCodeOf = (my: AuthCodeApi) => () =>
  new Promise<string>((resolve, reject) => {
    my.getAuthCode({
      scopes: 'auth_base',
      success: (result) => resolve(result.authCode ?? ''),
      fail: (e) =>
        reject({ errMsg: `getAuthCode:fail ${e?.error ?? ''} ${e?.errorMessage ?? ''}`.trim() }),
    })
  })

/**
 * In an Alipay build of Taro (`TARO_ENV === 'alipay'`) or uni-app
 * (`mp-alipay`), the global `my`'s auth code: Taro's and uni-app's login
 * do not give one there. Undefined elsewhere.
 */
export function alipayLogin(): (() => Promise<string>) | undefined {
  const my = (globalThis as { my?: Partial<AuthCodeApi> }).my
  return typeof my?.getAuthCode === 'function' ? authCodeOf(my as AuthCodeApi) : undefined
}
