// The console's script (src/admin/console.ts serves it). It runs in the
// operator's browser, not here: it is served as the source of this function,
// which the Worker's bundle minifies like the rest, so it must stay
// self-contained (globals of the browser and its two arguments only). What it
// shows of a user goes in as text (textContent, append), never as HTML:
// nicknames and device names are the users' own words.

/**
 * @param {readonly string[]} TYPES the audit types, for the filter
 * @param {Record<'en' | 'zh', Record<string, string>>} T the texts, by language
 */
export function consoleClient(TYPES, T) {
  const $ = (id) => document.getElementById(id),
    store = sessionStorage,
    KEY = 'wxa-admin-key'
  const base = location.pathname.replace(/\/+$/, '')
  let lang = store.getItem('wxa-admin-lang') || (/^zh/i.test(navigator.language) ? 'zh' : 'en')
  let current = null,
    cursor = null,
    auditCursor = null
  const t = (k) => T[lang][k] || k
  const when = (x) =>
    x == null
      ? ''
      : new Date(x < 1e12 ? x * 1000 : x).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en')
  const ms = (value) => (value ? new Date(value).getTime() : null)
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs || {})) {
      if (typeof v === 'function') el.addEventListener(k, v)
      else if (v != null) el.setAttribute(k, v)
    }
    el.append(...kids.filter((kid) => kid != null))
    return el
  }
  function say(text, error) {
    $('status').textContent = text
    $('status').className = error ? 'err' : ''
  }
  function translate() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en'
    document.title = t('title')
    for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t)
    for (const el of document.querySelectorAll('[data-p]')) el.placeholder = t(el.dataset.p)
    $('lang').textContent = lang === 'zh' ? 'English' : '中文'
    const type = $('a-type').value
    $('a-type').replaceChildren(
      h('option', { value: '' }, t('any')),
      ...TYPES.map((x) => h('option', { value: x }, x)),
    )
    $('a-type').value = type
    $('key-state').textContent = store.getItem(KEY) ? t('keySet') : t('noKey')
    render()
  }
  async function api(method, path, body) {
    const key = store.getItem(KEY)
    if (!key) {
      say(t('noKey'), true)
      throw new Error('no key')
    }
    say('…')
    const res = await fetch(`${base}/api${path}`, {
      method,
      cache: 'no-store',
      credentials: 'omit',
      headers: body
        ? { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }
        : { Authorization: `Bearer ${key}` },
      body: body ? JSON.stringify(body) : undefined,
    })
    if (res.ok && /ndjson/.test(res.headers.get('Content-Type') || '')) {
      say('')
      return res.blob()
    }
    const data = await res.json().catch(() => null)
    if (!res.ok) {
      const code = data?.error?.code || `HTTP ${res.status}`
      say(`${t('failed')}: ${code}`, true)
      throw new Error(code)
    }
    say('')
    return data
  }
  const act = (fn) => (event) => {
    if (event) event.preventDefault()
    fn().catch(() => {})
  }
  async function search(more) {
    const params = new URLSearchParams({ q: $('q').value.trim(), limit: '20' })
    if (more && cursor) params.set('cursor', cursor)
    const data = await api('GET', `/users?${params}`)
    if (!more) $('results').replaceChildren()
    for (const u of data.users) {
      const names = u.identities.map((i) => `${i.platform} ${i.openid}`).join(', ')
      $('results').append(
        h(
          'li',
          {},
          h(
            'button',
            { type: 'button', class: 'link', 'data-uid': u.uid, click: act(() => open(u.uid)) },
            u.uid,
          ),
          ` ${names}${u.phone ? ` · ${t('phone')}` : ''}`,
        ),
      )
    }
    cursor = data.cursor || null
    $('more').hidden = !cursor
    if (!$('results').children.length) say(t('none'))
  }
  async function open(uid) {
    current = await api('GET', `/users/${encodeURIComponent(uid)}`)
    render()
    $('user').scrollIntoView()
  }
  const device = ({ device: d = {}, createdAt }) =>
    [d.brand, d.model, d.system, d.platform, d.door, d.userAgent, when(createdAt)]
      .filter(Boolean)
      .join(' · ')
  const record = (r) =>
    h(
      'tr',
      {},
      h('td', {}, when(r.at)),
      h('td', {}, r.type),
      h(
        'td',
        {},
        r.uid
          ? h('button', { type: 'button', class: 'link', click: act(() => open(r.uid)) }, r.uid)
          : '',
      ),
      h('td', {}, r.actor),
      h('td', {}, r.detail ? JSON.stringify(r.detail) : ''),
    )
  function render() {
    $('user').hidden = !current
    if (!current) return
    const u = current,
      devices = Array.isArray(u.devices) ? u.devices : u.devices?.sessions || []
    $('user-id').textContent = u.uid
    $('identities').replaceChildren(
      ...u.identities.map((i) =>
        h(
          'tr',
          {},
          h('td', {}, i.platform),
          h('td', {}, i.appId),
          h('td', {}, i.openid),
          h('td', {}, i.unionid || ''),
        ),
      ),
    )
    $('devices').replaceChildren(
      ...devices.map((d) =>
        h(
          'li',
          { 'data-session': d.id },
          `${device(d)} `,
          h(
            'button',
            { type: 'button', class: 'danger', click: act(() => endDevice(d.id)) },
            t('end'),
          ),
        ),
      ),
    )
    if (!devices.length) $('devices').append(h('li', {}, t('noDevices')))
    $('profile').textContent = JSON.stringify(u.profile, null, 2)
    const ban = u.ban
    const until = ban?.until ? `→ ${when(ban.until)}` : t('forever')
    $('ban-state').textContent = ban
      ? `${t('banned')}: ${ban.reason} (${until}; ${when(ban.at)}, ${ban.by})`
      : t('notBanned')
    $('ban-state').className = ban ? 'err' : ''
    $('unban').hidden = !ban
    $('user-audit').replaceChildren(...(u.audit || []).map(record))
  }
  const userPath = () => `/users/${encodeURIComponent(current.uid)}`
  async function change(method, path, body) {
    await api(method, userPath() + path, body)
    await open(current.uid)
    say(t('done'))
  }
  const endDevice = (id) => change('DELETE', `/sessions/${encodeURIComponent(id)}`)
  function auditQuery() {
    const params = new URLSearchParams()
    const filter = {
      user: $('a-user').value.trim(),
      type: $('a-type').value,
      since: ms($('a-since').value),
      until: ms($('a-until').value),
    }
    for (const [k, v] of Object.entries(filter)) if (v) params.set(k, String(v))
    return params
  }
  async function readAudit(more) {
    const params = auditQuery()
    if (more && auditCursor) params.set('cursor', auditCursor)
    const data = await api('GET', `/audit?${params}`)
    if (!more) $('records').replaceChildren()
    $('records').append(...data.records.map(record))
    auditCursor = data.cursor || null
    $('a-more').hidden = !auditCursor
    if (!$('records').children.length) say(t('none'))
  }
  function tab(name) {
    $('users').hidden = name !== 'users'
    $('audit').hidden = name !== 'audit'
    $('tab-users').setAttribute('aria-pressed', String(name === 'users'))
    $('tab-audit').setAttribute('aria-pressed', String(name === 'audit'))
  }
  const on = (id, event, fn) => $(id).addEventListener(event, fn)
  on('lang', 'click', () => {
    lang = lang === 'zh' ? 'en' : 'zh'
    store.setItem('wxa-admin-lang', lang)
    translate()
  })
  on('key-form', 'submit', (e) => {
    e.preventDefault()
    if ($('key').value.trim()) store.setItem(KEY, $('key').value.trim())
    $('key').value = ''
    translate()
  })
  on('forget', 'click', () => {
    store.removeItem(KEY)
    current = null
    translate()
  })
  on('tab-users', 'click', () => tab('users'))
  on('tab-audit', 'click', () => tab('audit'))
  on(
    'search-form',
    'submit',
    act(() => search(false)),
  )
  on(
    'more',
    'click',
    act(() => search(true)),
  )
  on(
    'ban-form',
    'submit',
    act(() => {
      const until = ms($('until').value)
      const body = { reason: $('reason').value.trim() }
      if (until) body.until = Math.floor(until / 1000)
      return change('POST', '/ban', body)
    }),
  )
  on(
    'unban',
    'click',
    act(() => change('DELETE', '/ban')),
  )
  on(
    'logout-all',
    'click',
    act(() => change('POST', '/logout')),
  )
  on(
    'delete',
    'click',
    act(async () => {
      if (!confirm(`${t('confirmDelete')} ${current.uid}`)) return
      await api('DELETE', userPath())
      current = null
      render()
      say(t('deleted'))
    }),
  )
  on('user-audit-open', 'click', () => {
    $('a-user').value = current.uid
    tab('audit')
    readAudit(false).catch(() => {})
  })
  on(
    'audit-form',
    'submit',
    act(() => readAudit(false)),
  )
  on(
    'a-more',
    'click',
    act(() => readAudit(true)),
  )
  on(
    'export',
    'click',
    act(async () => {
      const params = auditQuery()
      params.set('format', 'ndjson')
      const blob = await api('GET', `/audit?${params}`)
      const link = h('a', {
        href: URL.createObjectURL(blob),
        download: `audit-${new Date().toISOString().slice(0, 10)}.ndjson`,
      })
      document.body.append(link)
      link.click()
      link.remove()
      setTimeout(() => URL.revokeObjectURL(link.href), 1000)
    }),
  )
  tab('users')
  translate()
}
