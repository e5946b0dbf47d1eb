const { api } = getApp()

Page({
  data: { user: null, loading: false, error: '' },

  onLoad() {
    this.load()
  },

  // The first request logs in silently (wx.login -> POST /auth/login).
  async load() {
    this.setData({ loading: true, error: '' })
    try {
      const { data } = await api.request({ url: '/me' })
      this.setData({ user: data.user })
    } catch (err) {
      // err is a WxaClientError: err.code is the server's code or the SDK's.
      this.setData({ user: null, error: `${err.code}: ${err.message}` })
    } finally {
      this.setData({ loading: false })
    }
  },

  async logout() {
    await api.logout()
    this.setData({ user: null, error: '' })
  },
})
