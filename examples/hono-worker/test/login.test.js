// Logs in against the running development Worker (`npm run dev`, or BASE_URL)
// the way the mini program does, with a code from the WeChat emulator.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { emulatorClient } from 'wxa-auth/testing/client'

const base = process.env.BASE_URL ?? 'http://127.0.0.1:8787'
const wechat = emulatorClient(base)

async function call(method, path, { token, json } = {}) {
  const headers = {}
  if (token) headers.Authorization = `JWT ${token}`
  if (json !== undefined) headers['Content-Type'] = 'application/json'
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
  })
  return { status: res.status, body: await res.json() }
}

test('a WeChat user logs in and reaches a protected route', async () => {
  const openid = `alice-${Date.now()}`
  assert.equal((await call('GET', '/orders')).status, 401)

  const login = await call('POST', '/auth/login', {
    json: { code: await wechat.loginCode(openid) },
  })
  assert.equal(login.status, 200, JSON.stringify(login.body))
  assert.equal(login.body.tokenType, 'JWT')
  const { token } = login.body

  assert.equal((await call('POST', '/orders/tea', { token })).status, 200)
  const orders = await call('GET', '/orders', { token })
  assert.equal(orders.status, 200)
  assert.deepEqual(orders.body.orders, ['tea'])
  assert.equal(orders.body.user.id, login.body.user.id)
  assert.equal((await call('GET', '/', { token })).body.hello, login.body.user.id)

  assert.equal((await call('POST', '/auth/logout', { token })).status, 200)
  assert.equal((await call('GET', '/orders', { token })).status, 401)
})

test('a login code works once', async () => {
  const code = await wechat.loginCode(`bob-${Date.now()}`)
  assert.equal((await call('POST', '/auth/login', { json: { code } })).status, 200)
  const again = await call('POST', '/auth/login', { json: { code } })
  assert.equal(again.status, 401)
  assert.equal(again.body.error.code, 'CODE_USED')
  // The code's 0.2 name, until 0.4.
  assert.equal(again.body.error.alias, 'WECHAT_CODE_USED')
})
