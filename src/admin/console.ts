import type { Context } from 'hono'
import { Hono } from '../util/hono'
import { CONSOLE_CSS, CONSOLE_SCRIPT } from './console-script'

/**
 * What every answer of the console carries: its script and style come from
 * this origin only (no inline script, nothing from elsewhere), it is never
 * framed, never cached, and it sends no Referer.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
}

const page = (base: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>wxa-auth admin</title><link rel="stylesheet" href="${base}/console.css"><script src="${base}/console.js" defer></script></head><body>
<header><h1 data-t="title"></h1><button id="lang" type="button" class="secondary"></button></header>
<form id="key-form"><label for="key" data-t="key"></label><div class="row"><input id="key" type="password" autocomplete="off" spellcheck="false"><button data-t="useKey"></button><button id="forget" type="button" class="secondary" data-t="forget"></button></div><p id="key-state"></p></form>
<nav><button id="tab-users" type="button" data-t="users"></button><button id="tab-audit" type="button" data-t="audit"></button></nav>
<main><section id="users">
<form id="search-form"><div class="row"><input id="q" type="search" required maxlength="256" data-p="qHint"><button data-t="search"></button></div></form>
<ul id="results"></ul><button id="more" type="button" class="secondary" data-t="more" hidden></button>
<article id="user" hidden><h2 id="user-id"></h2>
<h3 data-t="identities"></h3><div class="scroll"><table><thead><tr><th data-t="platform"></th><th data-t="app"></th><th>openid</th><th>unionid</th></tr></thead><tbody id="identities"></tbody></table></div>
<h3 data-t="devices"></h3><ul id="devices"></ul>
<h3 data-t="profile"></h3><pre id="profile"></pre>
<h3 data-t="ban"></h3><p id="ban-state"></p>
<form id="ban-form"><label for="reason" data-t="reason"></label><input id="reason" required maxlength="200"><label for="until" data-t="until"></label><input id="until" type="datetime-local"><div class="row"><button class="danger" data-t="banIt"></button><button id="unban" type="button" class="secondary" data-t="unban" hidden></button></div></form>
<div class="row"><button id="logout-all" type="button" class="secondary" data-t="logoutAll"></button><button id="user-audit-open" type="button" class="secondary" data-t="fullAudit"></button><button id="delete" type="button" class="danger" data-t="delete"></button></div>
<h3 data-t="recent"></h3><div class="scroll"><table><tbody id="user-audit"></tbody></table></div></article></section>
<section id="audit" hidden><form id="audit-form" class="grid">
<label><span data-t="user"></span><input id="a-user" autocomplete="off"></label><label><span data-t="type"></span><select id="a-type"></select></label>
<label><span data-t="since"></span><input id="a-since" type="datetime-local"></label><label><span data-t="before"></span><input id="a-until" type="datetime-local"></label>
<div class="row"><button data-t="read"></button><button id="export" type="button" class="secondary" data-t="export"></button></div></form>
<div class="scroll"><table><thead><tr><th data-t="at"></th><th data-t="type"></th><th data-t="user"></th><th data-t="actor"></th><th data-t="detail"></th></tr></thead><tbody id="records"></tbody></table></div>
<button id="a-more" type="button" class="secondary" data-t="more" hidden></button></section></main>
<p id="status" role="status" aria-live="polite"></p></body></html>`

const answer = (c: Context, body: string, type: string) =>
  c.body(body, 200, { ...CONSOLE_HEADERS, 'Content-Type': type })

/**
 * The operators' console: one page, its script and its style, on the admin
 * API beside them (`<base>/api/…`). It holds no data of its own: the operator
 * pastes a key, which stays in the tab's `sessionStorage`. Mount it inside the
 * admin tree, behind the guard that answers 404 without `ADMIN_KEYS`; the page
 * itself needs no key.
 */
export function adminConsole() {
  const routes = new Hono()
  routes.get('/', (c) =>
    answer(c, page(c.req.path.replace(/\/+$/, '')), 'text/html; charset=utf-8'),
  )
  routes.get('/console.js', (c) => answer(c, CONSOLE_SCRIPT, 'text/javascript; charset=utf-8'))
  routes.get('/console.css', (c) => answer(c, CONSOLE_CSS, 'text/css; charset=utf-8'))
  return routes
}
