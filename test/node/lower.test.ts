// The lower findings of the 0.3 review on Node, over a running server
// (dist/node.js, sessions in its memory): X-Forwarded-For entries that are
// not addresses, JSON nested thousands deep, guessable secrets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorClient } from '../../src/testing-client'
import { type Caller, caller, type NodeStack, startNodeStack } from './stack'

let stack: NodeStack
let app: Caller

beforeAll(async () => {
  stack = await startNodeStack({ servers: 1, vars: { TRUST_PROXY: '1' } })
  app = caller(stack.servers[0]?.url as string)
}, 60_000)
afterAll(() => stack?.dispose())

describe('TRUST_PROXY: an X-Forwarded-For entry that is not an IP address', () => {
  it('is not believed: the socket address counts, so the login limit holds', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 31; i++) {
      const forged = { 'X-Forwarded-For': `not-an-address-${i}` }
      statuses.push(
        (await app('/auth/login', { method: 'POST', json: {}, headers: forged })).status,
      )
    }
    expect(statuses.slice(0, 30).every((s) => s === 400)).toBe(true)
    expect(statuses[30]).toBe(429)
    // An address, with a port as some proxies write it, is still believed: its own counter.
    const real = { 'X-Forwarded-For': '198.51.100.7:5123' }
    expect((await app('/auth/login', { method: 'POST', json: {}, headers: real })).status).toBe(400)
  })
})

describe('JSON nested thousands deep', () => {
  it('is 413 or 400 at PATCH /me/session, never a 500', async () => {
    const emulator = emulatorClient(stack.emulator.url)
    const login = await app('/auth/login', {
      method: 'POST',
      json: { code: await emulator.loginCode('deep') },
      headers: { 'X-Forwarded-For': '198.51.100.8' },
    })
    expect(login.status).toBe(200)
    const { token } = login.body
    const headers = { 'Content-Type': 'application/json' }
    for (const body of [
      `{"deep":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      `{"deep":${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}}`,
    ]) {
      const res = await app('/me/session', { method: 'PATCH', token, body, headers })
      expect([400, 413]).toContain(res.status)
    }
    expect((await app('/me', { token })).status).toBe(200)
  })
})
