import { AUDIT_TYPES } from '../operators/ports'

// The console's script, served as it is from `<base>/console.js` (the page's
// Content-Security-Policy forbids inline script). Everything it shows of a user
// goes in as text (textContent, append), never as HTML: nicknames and devices
// are the users' own words.
const en = {
  title: 'wxa-auth admin',
  key: 'Admin key (kept in this tab only)',
  useKey: 'Use',
  forget: 'Forget',
  keySet: 'A key is set for this tab.',
  noKey: 'Paste an admin key first.',
  users: 'Users',
  audit: 'Audit log',
  qHint: 'user id, openid, unionid or phone',
  search: 'Search',
  more: 'More',
  identities: 'Identities',
  platform: 'Platform',
  app: 'App',
  devices: 'Devices',
  noDevices: 'No devices.',
  profile: 'Profile',
  ban: 'Ban',
  reason: 'Reason',
  until: 'Until (optional; empty: until lifted)',
  banIt: 'Ban',
  unban: 'Unban',
  logoutAll: 'Log out everywhere',
  fullAudit: 'Audit log of this user',
  delete: 'Delete account',
  recent: 'Latest audit records',
  user: 'User',
  type: 'Type',
  since: 'Since',
  before: 'Before',
  read: 'Read',
  export: 'Export NDJSON',
  at: 'Time',
  actor: 'Actor',
  detail: 'Detail',
  end: 'End',
  banned: 'Banned',
  notBanned: 'Not banned.',
  forever: 'until lifted',
  none: 'Nothing found.',
  phone: 'phone on record',
  any: 'any',
  confirmDelete: 'Delete this account and everything of it? This cannot be undone:',
  deleted: 'Account deleted.',
  done: 'Done.',
  failed: 'Failed',
}
const zh: typeof en = {
  title: 'wxa-auth 管理',
  key: '管理密钥（只保存在本标签页）',
  useKey: '使用',
  forget: '清除',
  keySet: '本标签页已设置密钥。',
  noKey: '请先粘贴管理密钥。',
  users: '用户',
  audit: '审计日志',
  qHint: '用户 ID、openid、unionid 或手机号',
  search: '搜索',
  more: '更多',
  identities: '身份',
  platform: '平台',
  app: '应用',
  devices: '设备',
  noDevices: '没有设备。',
  profile: '资料',
  ban: '封禁',
  reason: '原因',
  until: '截止时间（可选；留空：直到解封）',
  banIt: '封禁',
  unban: '解封',
  logoutAll: '全部设备退出登录',
  fullAudit: '该用户的审计日志',
  delete: '注销账号',
  recent: '最近的审计记录',
  user: '用户',
  type: '类型',
  since: '起始',
  before: '截止',
  read: '查询',
  export: '导出 NDJSON',
  at: '时间',
  actor: '操作者',
  detail: '详情',
  end: '下线',
  banned: '已封禁',
  notBanned: '未封禁。',
  forever: '直到解封',
  none: '未找到。',
  phone: '有手机号',
  any: '全部',
  confirmDelete: '注销此账号并删除其全部数据？此操作不可撤销：',
  deleted: '账号已注销。',
  done: '完成。',
  failed: '失败',
}

export const CONSOLE_SCRIPT = String.raw`'use strict';(() => {
const TYPES = ${JSON.stringify(AUDIT_TYPES)}, T = ${JSON.stringify({ en, zh })};
const $ = (id) => document.getElementById(id), store = sessionStorage, KEY = 'wxa-admin-key';
const base = location.pathname.replace(/\/+$/, '');
let lang = store.getItem('wxa-admin-lang') || (/^zh/i.test(navigator.language) ? 'zh' : 'en');
let current = null, cursor = null, auditCursor = null;
const t = (k) => T[lang][k] || k;
const when = (x) => x == null ? '' : new Date(x < 1e12 ? x * 1000 : x).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en');
const ms = (value) => value ? new Date(value).getTime() : null;
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (typeof v === 'function') el.addEventListener(k, v); else if (v != null) el.setAttribute(k, v);
  }
  el.append(...kids.filter((kid) => kid != null));
  return el;
}
function say(text, error) { $('status').textContent = text; $('status').className = error ? 'err' : ''; }
function translate() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll('[data-p]')) el.placeholder = t(el.dataset.p);
  $('lang').textContent = lang === 'zh' ? 'English' : '中文';
  const type = $('a-type').value;
  $('a-type').replaceChildren(h('option', { value: '' }, t('any')), ...TYPES.map((x) => h('option', { value: x }, x)));
  $('a-type').value = type;
  $('key-state').textContent = store.getItem(KEY) ? t('keySet') : t('noKey');
  render();
}
async function api(method, path, body) {
  const key = store.getItem(KEY);
  if (!key) { say(t('noKey'), true); throw new Error('no key'); }
  say('…');
  const res = await fetch(base + '/api' + path, {
    method, cache: 'no-store', credentials: 'omit',
    headers: body ? { Authorization: 'Bearer ' + key, 'Content-Type': 'application/json' } : { Authorization: 'Bearer ' + key },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.ok && /ndjson/.test(res.headers.get('Content-Type') || '')) { say(''); return res.blob(); }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const code = (data && data.error && data.error.code) || 'HTTP ' + res.status;
    say(t('failed') + ': ' + code, true);
    throw new Error(code);
  }
  say('');
  return data;
}
const act = (fn) => (event) => { if (event) event.preventDefault(); fn().catch(() => {}); };
async function search(more) {
  const params = new URLSearchParams({ q: $('q').value.trim(), limit: '20' });
  if (more && cursor) params.set('cursor', cursor);
  const data = await api('GET', '/users?' + params);
  if (!more) $('results').replaceChildren();
  for (const u of data.users) {
    const names = u.identities.map((i) => i.platform + ' ' + i.openid).join(', ');
    $('results').append(h('li', {}, h('button', { type: 'button', class: 'link', 'data-uid': u.uid, click: act(() => open(u.uid)) }, u.uid), ' ' + names + (u.phone ? ' · ' + t('phone') : '')));
  }
  cursor = data.cursor || null;
  $('more').hidden = !cursor;
  if (!$('results').children.length) say(t('none'));
}
async function open(uid) {
  current = await api('GET', '/users/' + encodeURIComponent(uid));
  render();
  $('user').scrollIntoView();
}
const device = (d) => [d.device && [d.device.brand, d.device.model, d.device.system, d.device.platform, d.device.door, d.device.userAgent].filter(Boolean).join(' '), when(d.createdAt)].filter(Boolean).join(' · ');
const record = (r) => h('tr', {}, h('td', {}, when(r.at)), h('td', {}, r.type), h('td', {}, r.uid ? h('button', { type: 'button', class: 'link', click: act(() => open(r.uid)) }, r.uid) : ''), h('td', {}, r.actor), h('td', {}, r.detail ? JSON.stringify(r.detail) : ''));
function render() {
  $('user').hidden = !current;
  if (!current) return;
  const u = current, devices = Array.isArray(u.devices) ? u.devices : (u.devices && u.devices.sessions) || [];
  $('user-id').textContent = u.uid;
  $('identities').replaceChildren(...u.identities.map((i) => h('tr', {}, h('td', {}, i.platform), h('td', {}, i.appId), h('td', {}, i.openid), h('td', {}, i.unionid || ''))));
  $('devices').replaceChildren(...devices.map((d) => h('li', { 'data-session': d.id }, device(d) + ' ', h('button', { type: 'button', class: 'danger', click: act(() => endDevice(d.id)) }, t('end')))));
  if (!devices.length) $('devices').append(h('li', {}, t('noDevices')));
  $('profile').textContent = JSON.stringify(u.profile, null, 2);
  const ban = u.ban;
  $('ban-state').textContent = ban ? t('banned') + ': ' + ban.reason + ' (' + (ban.until ? '→ ' + when(ban.until) : t('forever')) + '; ' + when(ban.at) + ', ' + ban.by + ')' : t('notBanned');
  $('ban-state').className = ban ? 'err' : '';
  $('unban').hidden = !ban;
  $('user-audit').replaceChildren(...(u.audit || []).map(record));
}
const userPath = () => '/users/' + encodeURIComponent(current.uid);
async function change(method, path, body) {
  await api(method, userPath() + path, body);
  await open(current.uid);
  say(t('done'));
}
const endDevice = (id) => change('DELETE', '/sessions/' + encodeURIComponent(id));
function auditQuery() {
  const params = new URLSearchParams();
  const filter = { user: $('a-user').value.trim(), type: $('a-type').value, since: ms($('a-since').value), until: ms($('a-until').value) };
  for (const [k, v] of Object.entries(filter)) if (v) params.set(k, String(v));
  return params;
}
async function readAudit(more) {
  const params = auditQuery();
  if (more && auditCursor) params.set('cursor', auditCursor);
  const data = await api('GET', '/audit?' + params);
  if (!more) $('records').replaceChildren();
  $('records').append(...data.records.map(record));
  auditCursor = data.cursor || null;
  $('a-more').hidden = !auditCursor;
  if (!$('records').children.length) say(t('none'));
}
function tab(name) {
  $('users').hidden = name !== 'users';
  $('audit').hidden = name !== 'audit';
  $('tab-users').setAttribute('aria-pressed', String(name === 'users'));
  $('tab-audit').setAttribute('aria-pressed', String(name === 'audit'));
}
$('lang').addEventListener('click', () => { lang = lang === 'zh' ? 'en' : 'zh'; store.setItem('wxa-admin-lang', lang); translate(); });
$('key-form').addEventListener('submit', (e) => { e.preventDefault(); if ($('key').value.trim()) store.setItem(KEY, $('key').value.trim()); $('key').value = ''; translate(); });
$('forget').addEventListener('click', () => { store.removeItem(KEY); current = null; translate(); });
$('tab-users').addEventListener('click', () => tab('users'));
$('tab-audit').addEventListener('click', () => tab('audit'));
$('search-form').addEventListener('submit', act(() => search(false)));
$('more').addEventListener('click', act(() => search(true)));
$('ban-form').addEventListener('submit', act(() => {
  const until = ms($('until').value), body = { reason: $('reason').value.trim() };
  if (until) body.until = Math.floor(until / 1000);
  return change('POST', '/ban', body);
}));
$('unban').addEventListener('click', act(() => change('DELETE', '/ban')));
$('logout-all').addEventListener('click', act(() => change('POST', '/logout')));
$('delete').addEventListener('click', act(async () => {
  if (!confirm(t('confirmDelete') + ' ' + current.uid)) return;
  await api('DELETE', userPath());
  current = null;
  render();
  say(t('deleted'));
}));
$('user-audit-open').addEventListener('click', () => { $('a-user').value = current.uid; tab('audit'); readAudit(false).catch(() => {}); });
$('audit-form').addEventListener('submit', act(() => readAudit(false)));
$('a-more').addEventListener('click', act(() => readAudit(true)));
$('export').addEventListener('click', act(async () => {
  const params = auditQuery();
  params.set('format', 'ndjson');
  const blob = await api('GET', '/audit?' + params);
  const link = h('a', { href: URL.createObjectURL(blob), download: 'audit-' + new Date().toISOString().slice(0, 10) + '.ndjson' });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}));
tab('users');
translate();
})();
`

export const CONSOLE_CSS = `*{box-sizing:border-box}
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:.75rem;color:#1d1d1f}
header{display:flex;justify-content:space-between;align-items:center;gap:.5rem}h1{font-size:1.2rem;margin:.3rem 0}
h2{font-size:1rem;word-break:break-all}h3{font-size:.95rem;margin:1rem 0 .3rem}
input,select,button{font:inherit;font-size:16px;padding:.4rem .6rem;border-radius:6px;border:1px solid #bbb;max-width:100%}
input,select{width:100%;background:#fff}label{display:block;margin:.4rem 0 .2rem}label input,label select{margin-top:.2rem}
button{background:#07c;color:#fff;border-color:#07c;cursor:pointer;white-space:nowrap}
button.secondary,nav button{background:#fff;color:#07c}button.danger{background:#c33;border-color:#c33}
button.link{background:none;border:0;color:#07c;padding:0;text-decoration:underline;word-break:break-all;white-space:normal}
nav{display:flex;gap:.4rem;margin:.6rem 0;border-bottom:1px solid #ddd;padding-bottom:.6rem}nav button[aria-pressed=true]{background:#07c;color:#fff}
.row{display:flex;flex-wrap:wrap;gap:.4rem;margin:.4rem 0}.row input{flex:1 1 12rem;width:auto}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:0 .6rem}.grid .row{grid-column:1/-1}
ul{padding-left:1.1rem}li{margin:.3rem 0;word-break:break-word}.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:13px;width:100%}td,th{border:1px solid #ddd;padding:.25rem .4rem;text-align:left;vertical-align:top;word-break:break-all}
pre{background:#f5f5f7;padding:.5rem;border-radius:6px;overflow:auto;font-size:12px}
#status{position:sticky;bottom:0;background:#fff;margin:0;padding:.4rem 0;min-height:1.5rem}.err{color:#c33}
`
