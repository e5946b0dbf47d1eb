import { SCAN_PANEL, SCAN_SCRIPT } from './playground-scan'

/**
 * The dev playground at `/` (emulator on only): a page that plays the mini
 * program of any configured app (WeChat, Douyin, QQ) against this Worker and
 * the emulator, showing each request, its response and the token's claims,
 * sets the profile, sends WeChat's authorization events and image-check
 * results, runs a scan-to-login (the PC and the mini program), and logs in
 * through an Official Account page, a website or an App.
 */
export const PLAYGROUND_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>wxa-auth playground</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;display:grid;grid-template-columns:minmax(320px,420px) 1fr;min-height:100vh}
aside{background:#f5f5f7;padding:1rem;border-right:1px solid #ddd}main{padding:1rem;overflow:auto}
h1{font-size:1.2rem;margin:.2rem 0 1rem}h2{font-size:1rem;margin:1.2rem 0 .4rem}
fieldset{border:1px solid #ddd;border-radius:8px;margin:0 0 .8rem;padding:.6rem}legend{font-weight:600}
input,textarea,select{width:100%;box-sizing:border-box;font:13px ui-monospace,monospace;padding:.3rem;margin:.2rem 0}
button{margin:.2rem .2rem .2rem 0;padding:.35rem .7rem;border-radius:6px;border:1px solid #07c;background:#07c;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#07c}label{display:block;margin-top:.5rem}pre{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5rem;overflow:auto;font:12px ui-monospace,monospace;margin:.3rem 0}
#avatar-img{width:64px;height:64px;border-radius:8px;object-fit:cover;background:#ddd;vertical-align:middle;margin-right:.5rem}
.entry{border-bottom:1px solid #eee;padding:.4rem 0}.ok{color:#0a7}.err{color:#c33}#status{font-weight:600}
</style></head><body>
<aside>
<h1>wxa-auth playground</h1>
<p>Plays the mini program against this Worker and the emulator (WeChat, Douyin, QQ, Alipay). Dev only.</p>
<fieldset><legend>1. Log in</legend>
<label>Mini program <select id="app"></select></label>
<label>Test user (openid) <input id="openid" value="alice"></label>
<button id="login">login() + POST /auth/login</button>
<p id="status">Logged out</p></fieldset>
<fieldset><legend>2. Use the session</legend>
<button id="me">GET /me</button><button id="refresh" class="secondary">POST /auth/refresh</button>
<label>Session data (JSON; null deletes a key) <textarea id="session-data" rows="3">{"cart":["tea"]}</textarea></label>
<button id="save-session">PATCH /me/session</button></fieldset>
<fieldset><legend>3. Platform data</legend>
<label>User info to encrypt <textarea id="profile" rows="2">{"nickName":"Alice","avatarUrl":"https://example.com/a.png"}</textarea></label>
<button id="decrypt">POST /auth/decrypt</button>
<label>Phone number <input id="phone-number" value="13800138000"></label>
<button id="phone">POST /auth/phone</button> <small>(WeChat and Alipay: the others answer NOT_OFFERED)</small></fieldset>
<fieldset><legend>4. Devices</legend>
<button id="devices">GET /auth/sessions</button><div id="device-list"></div></fieldset>
<fieldset><legend>5. Leave</legend>
<button id="logout">POST /auth/logout</button><button id="logout-all" class="secondary">POST /auth/logout-all</button></fieldset>
<fieldset><legend>6. Profile</legend>
<p>As <code>&lt;button open-type="chooseAvatar"&gt;</code> and <code>&lt;input type="nickname"&gt;</code> give them; the nickname is checked at once, the avatar by a later push. A text or image with the word <code>risky</code> is risky to the emulator.</p>
<label>Avatar (PNG, JPEG or WebP) <input id="avatar-file" type="file" accept="image/png,image/jpeg,image/webp"></label>
<label>Nickname <input id="nickname" value="Alice"></label>
<button id="set-profile">PUT /auth/profile</button><button id="get-profile" class="secondary">GET /auth/profile</button>
<p><img id="avatar-img" alt="" hidden><span id="profile-view">(no profile)</span></p>
<button id="media-checks" class="secondary">Deliver the image checks (push)</button></fieldset>
<fieldset><legend>7. WeChat events</legend>
<p>WeChat pushes these to <code>/wechat/events</code> when the user withdraws an authorization, WeChat cleans a profile, or the user deletes their account; the emulator signs and sends them.</p>
<label>Format <select id="event-format"><option value="xml">XML</option><option value="json">JSON</option></select></label>
<label>Mode <select id="event-mode"><option value="safe">safe (encrypted)</option><option value="compatible">compatible</option><option value="plain">plain</option></select></label>
<label>RevokeInfo <select id="revoke-info"><option value="6">6 · nickname and avatar</option><option value="19">19 · nickname</option><option value="20">20 · avatar</option><option value="8">8 · phone number</option><option value="4">4 · Bluetooth</option><option value="13">13 · location</option></select></label>
<button id="revoke-event">Revoke authorization (event)</button><button id="info-event" class="secondary">User info modified (event)</button><button id="cancel-event" class="secondary">Account cancelled (event)</button></fieldset>
${SCAN_PANEL}
<fieldset><legend>9. WeChat web and App</legend>
<p>The apps of <code>WECHAT_OA_APP_ID</code>, <code>WECHAT_WEB_APP_ID</code> and <code>WECHAT_MOBILE_APP_ID</code>: the browser goes to the emulator's consent page and comes back here with a code and a state.</p>
<label>Scope of the Official Account page <select id="oa-scope"><option>snsapi_userinfo</option><option>snsapi_base</option></select></label>
<button id="oa-login">Official Account page</button><button id="web-login" class="secondary">Website (QR)</button><button id="app-login" class="secondary">App (SendAuth)</button></fieldset>
</aside>
<main>
<h2>Token claims</h2><pre id="claims">(no token)</pre>
<h2>Requests</h2><div id="log"></div>
</main>
<script>
let token = null
let refreshToken = null
let loggedIn = ''
const $ = (id) => document.getElementById(id)
const LOGIN = { wechat: 'wx.login()', douyin: 'tt.login()', qq: 'qq.login()', alipay: 'my.getAuthCode()' }
const NAME = { wechat: 'WeChat', douyin: 'Douyin', qq: 'QQ', alipay: 'Alipay' }
fetch('/__emulator/apps').then((res) => res.json()).then((apps) => {
  for (const [platform, ids] of Object.entries(apps)) {
    for (const id of ids) {
      const option = document.createElement('option')
      option.value = id
      option.dataset.platform = platform
      option.textContent = NAME[platform] + ' · ' + id
      $('app').append(option)
    }
  }
  showApp()
})
const appId = () => $('app').value || undefined
const platform = () => $('app').selectedOptions[0]?.dataset.platform || 'wechat'
function showApp() { $('login').textContent = LOGIN[platform()] + ' + POST /auth/login' }
$('app').onchange = showApp
function decode(part) {
  return JSON.parse(decodeURIComponent(escape(atob(part.replace(/-/g, '+').replace(/_/g, '/')))))
}
function show() {
  $('status').textContent = token ? 'Logged in as ' + loggedIn : 'Logged out'
  $('claims').textContent = token
    ? JSON.stringify({ header: decode(token.split('.')[0]), payload: decode(token.split('.')[1]) }, null, 2)
    : '(no token)'
}
async function call(method, path, body) {
  const form = body instanceof FormData
  const headers = form ? {} : { 'Content-Type': 'application/json' }
  // A refresh sends the refresh token (in the body) and nothing else.
  if (token && !path.startsWith('/__emulator') && path !== '/auth/refresh') headers.Authorization = 'JWT ' + token
  const res = await fetch(path, { method, headers, body: body === undefined || form ? body : JSON.stringify(body) })
  const text = await res.text()
  let data
  try { data = JSON.parse(text) } catch { data = text }
  const entry = document.createElement('div')
  entry.className = 'entry'
  entry.dataset.path = path
  entry.dataset.status = res.status
  entry.innerHTML = '<b class="' + (res.ok ? 'ok' : 'err') + '"></b><pre></pre>'
  entry.querySelector('b').textContent = method + ' ' + path + ' → ' + res.status
  entry.querySelector('pre').textContent =
    (body === undefined ? '' : 'request: ' + (form ? '(multipart form)' : JSON.stringify(body, null, 2)) + '\\n') + 'response: ' + JSON.stringify(data, null, 2)
  $('log').prepend(entry)
  return { status: res.status, data }
}
const openid = () => $('openid').value.trim()
async function login() {
  const { data } = await call('POST', '/__emulator/code', { openid: openid(), appId: appId() })
  const res = await call('POST', '/auth/login', { ...data, appId: appId(), device: { platform: 'devtools', model: navigator.platform } })
  if (res.status === 200) { ({ token, refreshToken } = res.data); loggedIn = openid() + ' (' + NAME[platform()] + ')' }
  show()
}
$('login').onclick = login
$('me').onclick = () => call('GET', '/me')
$('refresh').onclick = async () => {
  const res = await call('POST', '/auth/refresh', { refreshToken })
  if (res.status === 200) ({ token, refreshToken } = res.data)
  show()
}
$('save-session').onclick = () => call('PATCH', '/me/session', JSON.parse($('session-data').value))
$('decrypt').onclick = async () => {
  const { data } = await call('POST', '/__emulator/user-data', { openid: openid(), appid: appId(), data: JSON.parse($('profile').value) })
  await call('POST', '/auth/decrypt', { encryptedData: data.encryptedData, iv: data.iv })
}
$('phone').onclick = async () => {
  if (platform() === 'alipay') {
    const { data } = await call('POST', '/__emulator/alipay/phone', { appId: appId(), mobile: $('phone-number').value })
    return call('POST', '/auth/phone', data)
  }
  if (platform() !== 'wechat') return call('POST', '/auth/phone', { code: 'no-phone-api-here' })
  const { data } = await call('POST', '/__emulator/phone-code', { openid: openid(), phoneNumber: $('phone-number').value })
  await call('POST', '/auth/phone', { code: data.code })
}
$('devices').onclick = async () => {
  const { status, data } = await call('GET', '/auth/sessions')
  const list = $('device-list')
  list.textContent = ''
  if (status !== 200) return
  for (const s of data.sessions) {
    const row = document.createElement('div')
    row.className = 'device'
    row.textContent = (s.current ? '★ ' : '') + (s.device.platform || 'unknown') + ' · since ' + s.createdAt + ' '
    const revoke = document.createElement('button')
    revoke.className = 'secondary revoke'
    revoke.textContent = 'revoke'
    revoke.onclick = async () => {
      await call('DELETE', '/auth/sessions/' + s.id)
      if (s.current) { token = null; show() }
      $('devices').click()
    }
    row.append(revoke)
    list.append(row)
  }
}
function showProfile(profile) {
  const img = $('avatar-img')
  img.hidden = !profile || !profile.avatarUrl
  if (profile && profile.avatarUrl) img.src = profile.avatarUrl
  $('profile-view').textContent = profile ? 'nickname: ' + (profile.nickname ?? '(none)') + ' · avatar: ' + (profile.avatarUrl ? 'yes' : '(none)') : '(no profile)'
}
async function loadProfile() {
  const { status, data } = await call('GET', '/auth/profile')
  showProfile(status === 200 ? data.profile : null)
}
$('get-profile').onclick = loadProfile
$('set-profile').onclick = async () => {
  const form = new FormData()
  const file = $('avatar-file').files[0]
  if (file) form.append('avatar', file)
  if ($('nickname').value) form.append('nickname', $('nickname').value)
  const { status, data } = await call('PUT', '/auth/profile', form)
  if (status === 200) showProfile(data.profile)
}
$('media-checks').onclick = async () => { await call('POST', '/__emulator/media-checks'); await loadProfile() }
async function pushEvent(event, extra) {
  await call('POST', '/__emulator/events', { openid: openid(), event, format: $('event-format').value, mode: $('event-mode').value, ...extra })
  await loadProfile()
}
$('revoke-event').onclick = () => pushEvent('user_authorization_revoke', { revokeInfo: $('revoke-info').value })
$('cancel-event').onclick = () =>
  platform() === 'alipay'
    ? call('POST', '/__emulator/alipay/cancel', { appId: appId(), openid: openid() })
    : pushEvent('user_authorization_cancellation')
$('info-event').onclick = () => pushEvent('user_info_modified')
$('logout').onclick = async () => { await call('POST', '/auth/logout'); token = null; show() }
$('logout-all').onclick = async () => { await call('POST', '/auth/logout-all'); token = null; show() }
${SCAN_SCRIPT}
let doors = {}
fetch('/__emulator/oauth/apps').then((res) => res.json()).then((apps) => { doors = apps })
function authorize(kind, scope) {
  const appId = doors[kind]
  if (!appId) return alert('Set WECHAT_' + kind.toUpperCase() + '_APP_ID first.')
  const back = location.origin + '/?appId=' + appId
  location.href = '/auth/wechat/authorize?' + new URLSearchParams({ appId, redirectUri: back, scope })
}
$('oa-login').onclick = () => authorize('oa', $('oa-scope').value)
$('web-login').onclick = () => authorize('web', 'snsapi_login')
$('app-login').onclick = async () => {
  if (!doors.mobile) return alert('Set WECHAT_MOBILE_APP_ID first.')
  const { data } = await call('POST', '/__emulator/oauth/code', { appId: doors.mobile, openid: openid() })
  const res = await call('POST', '/auth/login', { code: data.code, appId: doors.mobile })
  if (res.status === 200) { ({ token, refreshToken } = res.data); loggedIn = openid() + ' (App)' }
  show()
}
// Back from the consent page: the page WeChat redirects to posts what it carries.
const back = new URLSearchParams(location.search)
if (back.get('code') && back.get('state') && back.get('appId')) {
  history.replaceState(null, '', '/')
  call('POST', '/auth/login', { code: back.get('code'), state: back.get('state'), appId: back.get('appId') }).then((res) => {
    if (res.status === 200) { ({ token, refreshToken } = res.data); loggedIn = res.data.user.openid + ' (WeChat web)' }
    show()
  })
}
show()
</script>
</body></html>`
