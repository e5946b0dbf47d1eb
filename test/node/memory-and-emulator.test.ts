// Without REDIS_URL: one server process on this process's memory, said once
// at start, still the whole flow. And the Node emulator as a user's test
// sees it: WeChat's answers for apps and secrets it does not know.
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorClient } from '../../src/testing-client'
import { APP_ID, type Caller, caller, type NodeStack, startNodeStack } from './stack'

/** What a replay must repeat: both tokens and their ends (`expiresIn` counts from each answer). */
const tokensOf = ({ body }: { body: any }) => ({
  token: body.token,
  refreshToken: body.refreshToken,
  expiresAt: body.expiresAt,
  refreshExpiresAt: body.refreshExpiresAt,
})

let stack: NodeStack
let app: Caller

beforeAll(async () => {
  stack = await startNodeStack({ servers: 1 })
  app = caller(stack.servers[0]?.url as string)
}, 60_000)
afterAll(() => stack?.dispose())

describe('the embedded default (no REDIS_URL)', () => {
  it('says "single process only" once at start, and runs the flow', async () => {
    const output = stack.servers[0]?.output ?? []
    expect(output.filter((line) => line.includes('single process only'))).toHaveLength(1)
    expect(output.some((line) => line.includes('sessions in memory'))).toBe(true)
    const emulator = emulatorClient(stack.emulator.url)
    const login = await app('/auth/login', {
      method: 'POST',
      json: { code: await emulator.loginCode('alice') },
    })
    expect(login.status).toBe(200)
    const { token, refreshToken } = login.body
    expect((await app('/me/session', { method: 'PATCH', token, json: { a: 1 } })).status).toBe(200)
    expect((await app('/me', { token })).body.session).toEqual({ a: 1 })
    const refreshed = await app('/auth/refresh', { method: 'POST', json: { refreshToken } })
    expect(refreshed.status).toBe(200)
    const replayed = await app('/auth/refresh', { method: 'POST', json: { refreshToken } })
    expect(tokensOf(replayed)).toEqual(tokensOf(refreshed))
    expect(
      (await app('/auth/logout', { method: 'POST', token: refreshed.body.token })).status,
    ).toBe(200)
    expect((await app('/me', { token: refreshed.body.token })).body.error.code).toBe(
      'SESSION_EXPIRED',
    )
    expect(output.filter((line) => line.includes('single process only'))).toHaveLength(1)
  })
})

describe('the Node emulator', () => {
  const code2Session = (query: Record<string, string>) =>
    fetch(`${stack.emulator.url}/sns/jscode2session?${new URLSearchParams(query)}`).then((res) =>
      res.json(),
    )

  it('answers 40013 for an app it does not know and 40125 for a wrong secret', async () => {
    const secret = stack.vars.WECHAT_APP_SECRET as string
    const code = await emulatorClient(stack.emulator.url).loginCode('bob')
    const base = { grant_type: 'authorization_code', js_code: code }
    expect(await code2Session({ ...base, appid: 'wx1111111111111111', secret })).toMatchObject({
      errcode: 40013,
    })
    expect(await code2Session({ ...base, appid: APP_ID, secret: 'not-the-secret' })).toMatchObject({
      errcode: 40125,
    })
    expect(await code2Session({ ...base, appid: APP_ID, secret })).toMatchObject({ openid: 'bob' })
  })

  it('serves the control surface; /__emulator/events delivers a push to APP_URL', async () => {
    const emulator = emulatorClient(stack.emulator.url)
    expect(await emulator.getUser('bob')).toMatchObject({ openid: 'bob', calls: 1 })
    const login = await app('/auth/login', {
      method: 'POST',
      json: { code: await emulator.loginCode('carol') },
    })
    const res = await emulator.request('POST', '/events', {
      openid: 'carol',
      event: 'user_authorization_cancellation',
    })
    expect(await res.json()).toEqual({ status: 200, answer: 'success' })
    expect((await app('/me', { token: login.body.token })).body.error.code).toBe('SESSION_EXPIRED')
  })
})

describe('configuration refused at start', () => {
  it('AVATARS_DIR without PUBLIC_URL: refused at start naming PUBLIC_URL, the server does not start (M-3)', () => {
    const { PUBLIC_URL: _unset, ...env } = process.env
    const started = spawnSync(process.execPath, ['examples/node/server.mjs'], {
      env: { ...env, AVATARS_DIR: tmpdir(), PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    })
    expect(started.status).not.toBe(0)
    expect(started.stderr).toContain('CONFIG_INVALID')
    expect(started.stderr).toContain('PUBLIC_URL is not set, and AVATARS_DIR needs it')
    // The way to set it names the variable that is missing.
    expect(started.stderr).toContain("set PUBLIC_URL in the server's environment")
    expect(started.stdout).not.toContain('listening')
  })
})
