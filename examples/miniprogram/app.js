// The SDK, bundled by `npm run example` (client/src -> lib/wxa-auth.js).
const { createClient, wxAdapter } = require('./lib/wxa-auth.js')

// Where wxa-auth runs. `npm run dev` serves it here; in the devtools, tick
// "Does not verify valid domain names" (urlCheck is off in project.config.json).
const BASE_URL = 'http://127.0.0.1:8787'

// Against `npm run dev` without an AppSecret, WeChat is the emulator, which
// knows only the codes it issued: log in as this test user through its control
// endpoint instead of WeChat. With a real AppID and AppSecret, set it to ''.
const EMULATOR_OPENID = 'alice'

/** wx, with wx.login answered by the emulator for `openid`. */
function emulatorWx(openid) {
  return {
    request: (option) => wx.request(option),
    uploadFile: (option) => wx.uploadFile(option),
    downloadFile: (option) => wx.downloadFile(option),
    getStorageSync: (key) => wx.getStorageSync(key),
    setStorageSync: (key, data) => wx.setStorageSync(key, data),
    removeStorageSync: (key) => wx.removeStorageSync(key),
    login: ({ success, fail }) =>
      wx.request({
        url: `${BASE_URL}/__emulator/code`,
        method: 'POST',
        data: { openid },
        success: ({ statusCode, data }) =>
          statusCode === 200
            ? success({ code: data.code })
            : fail({ errMsg: `login:fail ${statusCode}` }),
        fail,
      }),
  }
}

App({
  BASE_URL,
  EMULATOR_OPENID,
  api: createClient({
    baseUrl: BASE_URL,
    // wxAdapter() alone uses the global wx; taroAdapter(Taro) and uniAdapter(uni) are the others.
    adapter: wxAdapter(EMULATOR_OPENID ? emulatorWx(EMULATOR_OPENID) : wx),
  }),
})
