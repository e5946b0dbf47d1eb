// Account deletion is whole under IDENTITY=unionid (M-4): the user object's
// identity index outlives every identity it lists (SESSION_MAX_AGE and a
// day), not just the sessions. An idle user whose sessions are over logs in
// through app A and deletes the account: app B's identity goes too.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { UserSessions } from '../src/runtime/cloudflare/object'
import { appWith, call, codeFor, emulate, newOpenid, testEnv, testIdentities } from './helpers'

const APP_A = 'wx00000000emulator'
const APP_B = 'wx0000000000second'
const objectOf = (uid: string) => {
  const ns = testEnv.USER_SESSIONS as DurableObjectNamespace<UserSessions>
  return ns.get(ns.idFromName(uid))
}

async function loginTo(app: ReturnType<typeof appWith>, appId: string, openid: string) {
  const code = await codeFor(openid, { appId })
  const res = await call<{ token: string; user: { id: string } }>(
    'POST',
    '/auth/login',
    { json: { code, appId } },
    app,
  )
  expect(res.status, res.text).toBe(200)
  return res.body
}

describe('the identity index outlives the identities it lists (M-4)', () => {
  it('idle user: sessions over, logs in through A, deletes the account: B’s identity is gone', async () => {
    const app = appWith({ IDENTITY: 'unionid' })
    const unionid = `union-${crypto.randomUUID()}`
    const [a, b] = [newOpenid('a'), newOpenid('b')]
    await emulate(a, { unionid })
    await emulate(b, { unionid })
    const viaB = await loginTo(app, APP_B, b)
    const uid = viaB.user.id
    // A month idle: the session is past its expiry, and the object has been empty for long.
    await runInDurableObject(objectOf(uid), async (_instance, state) => {
      state.storage.sql.exec('UPDATE sessions SET expires_at = 1')
      state.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('emptied', '1')")
    })
    expect(await runDurableObjectAlarm(objectOf(uid))).toBe(true)
    // The session's KV copy expired with it.
    const kv = testEnv.SESSIONS as KVNamespace
    for (const { name } of (await kv.list({ prefix: `session:${uid}:` })).keys)
      await kv.delete(name)
    expect(await testIdentities().get(APP_B, b, 'wechat')).not.toBeNull() // SESSION_MAX_AGE and a day
    const viaA = await loginTo(app, APP_A, a)
    expect(viaA.user.id).toBe(uid)
    const deleted = await call(
      'DELETE',
      '/auth/account',
      { token: viaA.token, json: { code: await codeFor(a, { appId: APP_A }) } },
      app,
    )
    expect(deleted.status, deleted.text).toBe(200)
    await runDurableObjectAlarm(objectOf(uid))
    expect(await testIdentities().get(APP_A, a, 'wechat')).toBeNull()
    expect(await testIdentities().get(APP_B, b, 'wechat')).toBeNull()
  })
})
