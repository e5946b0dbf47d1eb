import { describe, expect, it } from 'vitest'
import { createClient } from '../src'
import { device } from './device'
import { baseUrl, miniProgram, rejection } from './helpers'
import { wxStandIn } from './stand-ins'

// Paths that leave baseUrl's origin (or its path) once joined or parsed.
const LEAVING = [
  '@evil.example/x', // https://api.example.com@evil.example/x: evil.example is the host
  'https://evil.example/x',
  '//evil.example/x',
  '/\\evil.example/x',
  '\\\\evil.example/x',
  '/\t/evil.example/x', // parsers drop tabs and newlines: //evil.example
  '/\n/evil.example/x',
  '.evil.example/x',
  ':8080/x',
  'me',
  '',
]
// Paths that stay on the host but are tricks all the same.
const TRICKY = [
  '/@evil.example/x',
  '/%2f%2fevil.example/x',
  '/%5Cevil.example/x',
  '/../admin',
  '/a/%2e%2e/admin',
  '/a/./b',
  '/me/%40evil',
  '/me\\x',
  '/me x',
  '/me\u0000',
]

describe('safe URLs: BAD_URL, and nothing sent', () => {
  it('the leaving ones do leave the origin, concatenated or resolved as a URL', () => {
    const base = 'https://api.example.com'
    for (const path of LEAVING.slice(0, 7)) {
      const origins = [new URL(base + path).origin, new URL(path, `${base}/`).origin]
      expect(origins, JSON.stringify(path)).not.toEqual([base, base])
    }
  })

  it.each([...LEAVING, ...TRICKY].map((path) => [JSON.stringify(path), path]))(
    '%s',
    async (_label, path) => {
      const { api, phone } = miniProgram()
      for (const call of [
        () => api.request({ url: path }),
        () => api.uploadFile({ url: path, filePath: '/tmp/x', name: 'f' }),
        () => api.downloadFile({ url: path }),
      ]) {
        const error = await rejection(call())
        expect(error.code).toBe('BAD_URL')
      }
      // Not even a login: nothing went anywhere.
      expect(phone.state.logins).toBe(0)
      expect(phone.state.sent).toEqual([])
    },
  )

  it('a logged-in client sends no token for a bad path', async () => {
    const { api, phone } = miniProgram()
    await api.login()
    await rejection(api.request({ url: '@evil.example/x' }))
    expect(phone.state.sent).toHaveLength(1)
  })

  it('the paths option is held to the same rule', async () => {
    const { api, phone } = miniProgram({ paths: { login: '//evil.example/login' } })
    expect((await rejection(api.login())).code).toBe('BAD_URL')
    expect(phone.state.sent).toEqual([])
  })

  it('plain paths, queries with any characters, and a baseUrl path are fine', async () => {
    const { api, trail } = miniProgram()
    await api.request({ url: '/me?email=a@b.example&next=%2F%2Fx' })
    await api.request({ url: '/me#top' })
    expect(trail().slice(1)).toEqual(['GET /me?email=a@b.example&next=%2F%2Fx 200', 'GET /me 200'])
  })
})

describe('baseUrl: https, or http to this machine only', () => {
  const wx = wxStandIn(device(baseUrl))
  const make = (url: string) => () => createClient({ baseUrl: url, wx })

  it.each([
    'http://api.example.com',
    'http://api.example.com:8787/api',
    'HTTP://API.EXAMPLE.COM',
    'http://localhost.evil.example',
    'http://localhost:8787.evil.example',
    'http://127.0.0.1.nip.io',
    'http://127.0.0.2',
    'http://10.0.0.1:8787',
    'http://[::2]',
    'http://[::1].evil.example',
    'http://evil.example/localhost',
  ])('refuses %s: tokens would cross the network in the clear', (url) => {
    expect(make(url)).toThrow(TypeError)
    expect(make(url)).toThrow(/https/)
  })

  it.each([
    'http://localhost',
    'http://localhost:8787',
    'http://LOCALHOST:8787/api/',
    'http://127.0.0.1',
    'http://127.0.0.1:8787/api',
    'http://[::1]',
    'http://[::1]:8787/',
    'https://api.example.com',
    'https://api.example.com:8443/api/',
    'HTTPS://API.EXAMPLE.COM',
    'https://10.0.0.1',
  ])('takes %s', (url) => {
    expect(make(url)).not.toThrow()
  })
})
