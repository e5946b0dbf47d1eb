import { AUDIT_TYPES } from '../operators/ports'
import { consoleClient } from './console-client'

// The console's texts, its script and its style, served from `<base>/console.js`
// and `<base>/console.css` (the page's Content-Security-Policy forbids inline
// script and style).
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

/**
 * The script, minified with the bundle: the function's own source called with
 * the audit types and the texts.
 */
export const CONSOLE_SCRIPT = `(${consoleClient})(${JSON.stringify(AUDIT_TYPES)},${JSON.stringify({ en, zh })})`

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
