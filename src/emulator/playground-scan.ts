// The playground's "scan on PC" panel: the PC's side (a ticket, its code, the
// polls) beside the mini program's (confirm or deny with its token), in one
// page. Kept apart from playground.ts, which inserts both parts.

/** The panel's markup. */
export const SCAN_PANEL = `<fieldset><legend>8. Scan on PC</legend>
<p>The PC asks for a ticket and shows its mini program code; the mini program logged in above confirms it; the PC's poll gets a new session of the same user (a device <code>pc-scan</code>).</p>
<button id="scan-start">PC: POST /auth/scan</button><button id="scan-poll" class="secondary">PC: GET /auth/scan/&lt;ticket&gt;</button>
<p><img id="scan-code" alt="the mini program code" width="120" height="120" hidden> <span id="scan-status">(no ticket)</span></p>
<button id="scan-scanned" class="secondary">Mini program: scanned</button><button id="scan-confirm">Mini program: confirm</button><button id="scan-deny" class="secondary">Mini program: deny</button></fieldset>`

/** The panel's script: `call`, `$` and `token` are the page's. */
export const SCAN_SCRIPT = `let scanTicket = null
let scanTimer = null
function scanShow(text) { $('scan-status').textContent = text }
async function scanPoll() {
  if (!scanTicket) return
  // The PC has no token of the mini program: its poll goes without one.
  const res = await fetch('/auth/scan/' + scanTicket)
  const data = await res.json()
  const entry = document.createElement('div')
  entry.className = 'entry'
  entry.dataset.path = '/auth/scan/<ticket>'
  entry.dataset.status = res.status
  entry.innerHTML = '<b class="' + (res.ok ? 'ok' : 'err') + '"></b><pre></pre>'
  entry.querySelector('b').textContent = 'GET /auth/scan/' + scanTicket + ' → ' + res.status
  entry.querySelector('pre').textContent = 'response: ' + JSON.stringify(data, null, 2)
  $('log').prepend(entry)
  const status = res.ok ? data.status : data.error.code
  scanShow(status === 'confirmed' ? 'PC logged in as user ' + data.user.id : 'PC: ' + status)
  if (status !== 'pending' && status !== 'scanned') { clearInterval(scanTimer); scanTimer = null }
}
$('scan-start').onclick = async () => {
  const { status, data } = await call('POST', '/auth/scan', { appId: appId() })
  if (status !== 200) return
  scanTicket = data.ticket
  $('scan-code').src = data.qrcode
  $('scan-code').hidden = false
  scanShow('PC: pending · ticket ' + scanTicket)
  clearInterval(scanTimer)
  scanTimer = setInterval(scanPoll, 3000)
}
$('scan-poll').onclick = scanPoll
$('scan-scanned').onclick = () => scanTicket && call('POST', '/auth/scan/' + scanTicket + '/scanned')
$('scan-confirm').onclick = () => scanTicket && call('POST', '/auth/scan/' + scanTicket + '/confirm')
$('scan-deny').onclick = () => scanTicket && call('POST', '/auth/scan/' + scanTicket + '/deny')`
