// What each H5 page does with the docs' client (its `api`), from another
// origin than the Worker's: log in (with the code in the page's URL), /me, a
// nickname, an avatar upload (a blob: URL, as the frameworks' chooseImage
// gives in a browser), the profile, logout. The page shows the outcome as JSON.

/** A real 1×1 PNG. */
const PIXEL =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='

/** @param {import('wxa-auth/client').WxaClient} api */
export async function flow(api) {
  const me = await api.request({ url: '/me' })
  await api.setProfile({ nickname: 'H5 小明' })
  const bytes = Uint8Array.from(atob(PIXEL), (c) => c.charCodeAt(0))
  const avatarPath = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }))
  const pictured = await api.setProfile({ avatarPath })
  const profile = await api.profile()
  const token = api.session()?.token
  await api.logout()
  return {
    openid: me.data.user.openid,
    nickname: profile.nickname,
    avatarUrl: pictured.avatarUrl,
    profileAvatarUrl: profile.avatarUrl,
    token,
    session: api.session(),
  }
}
