const { api, BASE_URL, EMULATOR_OPENID } = getApp()
const { privacyError } = require('../../lib/wxa-auth.js')

/** A POST to the emulator's control surface (dev only), as a promise. */
function emulator(path, data) {
  return new Promise((resolve, reject) =>
    wx.request({
      url: `${BASE_URL}/__emulator/${path}`,
      method: 'POST',
      data,
      success: ({ data }) => resolve(data),
      fail: reject,
    }),
  )
}

Page({
  data: { user: null, profile: null, privacyAsked: false, loading: false, error: '', result: '' },

  onLoad() {
    // WeChat asks before a privacy API (chooseAvatar, getPhoneNumber, the
    // nickname input, …) the first time: show the guide; the agree button is
    // <button open-type="agreePrivacyAuthorization">, then `resolve` lets the
    // API go on. Without a listener WeChat shows its own pop-up.
    wx.onNeedPrivacyAuthorization((resolve) => {
      this.privacyAnswer = resolve
      this.setData({ privacyAsked: true })
    })
    this.load()
  },

  agreePrivacy() {
    this.privacyAnswer?.({ buttonId: 'agree-privacy', event: 'agree' })
    this.setData({ privacyAsked: false })
  },

  declinePrivacy() {
    this.privacyAnswer?.({ event: 'disagree' })
    this.setData({ privacyAsked: false })
  },

  /** Runs `work`, showing its result or its WxaClientError (`code: message`). */
  async run(work) {
    this.setData({ loading: true, error: '' })
    try {
      const result = await work()
      if (result !== undefined) this.setData({ result: JSON.stringify(result) })
    } catch (err) {
      this.setData({ error: `${err.code}: ${err.message}` })
    } finally {
      this.setData({ loading: false })
    }
  },

  // The first request logs in silently (wx.login -> POST /auth/login); later
  // ones refresh the token past half its lifetime (POST /auth/refresh).
  load() {
    return this.run(async () => {
      const { data } = await api.request({ url: '/me' })
      this.setData({ user: data.user, profile: await api.profile() })
    })
  },

  // Encrypted data, decrypted by the server with the user's session_key. On a
  // stale key the SDK logs in again and calls getData once more. In a real mini
  // program getData would be () => wx.getWeRunData(); the emulator makes data here.
  decrypt() {
    return this.run(() =>
      api.decrypt(() =>
        EMULATOR_OPENID
          ? emulator('user-data', { openid: EMULATOR_OPENID, data: { stepInfoList: [] } })
          : wx.getWeRunData(),
      ),
    )
  },

  // <button open-type="chooseAvatar"> gives a temporary file: upload it. The
  // server checks its bytes, keeps it and serves it at profile.avatarUrl.
  chooseAvatar(event) {
    const refused = privacyError(event.detail)
    if (refused) return this.setData({ error: `${refused.code}: ${refused.message}` })
    return this.run(async () => {
      this.setData({ profile: await api.setProfile({ avatarPath: event.detail.avatarUrl }) })
    })
  },

  // <input type="nickname">: WeChat suggests the WeChat nickname; the server
  // checks the text (msg_sec_check) before it keeps it.
  setNickname(event) {
    const nickname = event.detail.value.trim()
    if (!nickname || nickname === this.data.profile?.nickname) return
    return this.run(async () => {
      this.setData({ profile: await api.setProfile({ nickname }) })
    })
  },

  // The phone-number button's code (<button open-type="getPhoneNumber">).
  phone(event) {
    const refused = privacyError(event.detail)
    if (refused) return this.setData({ error: `${refused.code}: ${refused.message}` })
    const { code } = event.detail
    if (!code) return this.setData({ error: 'no phone code (denied, or not available)' })
    return this.run(() => api.phone(code))
  },

  // An upload with the same login and refresh (dev: /__dev/upload echoes it).
  upload() {
    return this.run(async () => {
      const { tempFiles } = await wx.chooseMedia({ count: 1, mediaType: ['image'] })
      const { data } = await api.uploadFile({
        url: '/__dev/upload',
        filePath: tempFiles[0].tempFilePath,
        name: 'photo',
      })
      return data.files
    })
  },

  logout() {
    return this.run(async () => {
      await api.logout()
      this.setData({ user: null, profile: null, result: '' })
    })
  },
})
