import { describe, expect, it } from 'vitest'
import { miniProgram, rejection } from './helpers'

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
