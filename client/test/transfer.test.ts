import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_LOGIN_COOLDOWN, DEFAULT_MAX_CONCURRENT } from '../src'
import { endSession, RUNTIME_MAX_IN_FLIGHT } from './device'
import { baseUrl, miniProgram, rejection } from './helpers'

const COOLED = DEFAULT_LOGIN_COOLDOWN + 1000 // ms

/** A file on disk, as `wx.chooseMedia` leaves one. */
async function localFile(bytes: Buffer) {
  const path = join(await mkdtemp(join(tmpdir(), 'wxa-up-')), 'photo.jpg')
  await writeFile(path, bytes)
  return { path, sha256: createHash('sha256').update(bytes).digest('hex') }
}

interface Uploaded {
  fields: Record<string, string>
  files: Record<string, { name: string; size: number; sha256: string }>
  user: { id: string; openid: string }
}

describe('uploadFile', () => {
  it('uploads with the token; the JSON answer is parsed', async () => {
    const { api, openid, trail } = miniProgram()
    const bytes = randomBytes(20_000)
    const file = await localFile(bytes)
    const res = await api.uploadFile<Uploaded>({
      url: '/__dev/upload',
      filePath: file.path,
      name: 'photo',
      formData: { caption: 'tea' },
    })
    expect(res.statusCode).toBe(200)
    expect(res.data).toEqual({
      fields: { caption: 'tea' },
      files: { photo: { name: 'photo.jpg', size: bytes.length, sha256: file.sha256 } },
      user: expect.objectContaining({ openid }),
    })
    expect(trail()).toEqual(['POST /auth/login 200', 'POST /__dev/upload 200'])
  })

  it('a 401 is handled as for requests: refresh, login, one retry of the upload', async () => {
    const { api, clock, phone, trail } = miniProgram()
    const { token } = await api.login()
    await endSession(baseUrl, token)
    clock.advance(COOLED)
    const file = await localFile(randomBytes(100))
    const res = await api.uploadFile<Uploaded>({
      url: '/__dev/upload',
      filePath: file.path,
      name: 'f',
    })
    expect(res.data.files.f?.sha256).toBe(file.sha256)
    expect(phone.state.logins).toBe(2)
    expect(trail()).toEqual([
      'POST /auth/login 200',
      'POST /__dev/upload 401',
      'POST /auth/refresh 401',
      'POST /auth/login 200',
      'POST /__dev/upload 200',
    ])
  })

  it('refreshes first when the token is past half its lifetime', async () => {
    const { api, clock, trail } = miniProgram()
    await api.login()
    clock.advance(20 * 24 * 60 * 60 * 1000)
    const file = await localFile(randomBytes(10))
    await api.uploadFile({ url: '/__dev/upload', filePath: file.path, name: 'f' })
    expect(trail().slice(1)).toEqual(['POST /auth/refresh 200', 'POST /__dev/upload 200'])
  })
})

describe('downloadFile', () => {
  it('downloads with the token to a temp file', async () => {
    const { api, trail } = miniProgram()
    const { statusCode, tempFilePath } = await api.downloadFile({
      url: '/__dev/download?size=1000',
    })
    expect(statusCode).toBe(200)
    const bytes = await readFile(tempFilePath)
    expect([...bytes]).toEqual(Array.from({ length: 1000 }, (_, i) => i % 251))
    expect(trail()).toEqual(['POST /auth/login 200', 'GET /__dev/download?size=1000 200'])
  })

  it('a 401 is handled as for requests', async () => {
    const { api, clock, phone, trail } = miniProgram()
    const { token } = await api.login()
    await endSession(baseUrl, token)
    clock.advance(COOLED)
    const { tempFilePath } = await api.downloadFile({ url: '/__dev/download?size=10' })
    expect((await readFile(tempFilePath)).length).toBe(10)
    expect(phone.state.logins).toBe(2)
    expect(trail().slice(1)).toEqual([
      'GET /__dev/download?size=10 401',
      'POST /auth/refresh 401',
      'POST /auth/login 200',
      'GET /__dev/download?size=10 200',
    ])
  })

  it('another error status rejects with it (the body is in a file, not read)', async () => {
    const { api } = miniProgram()
    const error = await rejection(api.downloadFile({ url: '/no-such-file' }))
    expect(error.code).toBe('BAD_RESPONSE')
    expect(error.status).toBe(404)
  })
})

describe('at most maxConcurrent network calls in flight', () => {
  const slow = (i: number) => ({ url: `/__dev/echo?delay=150&i=${i}` })

  it(`thirty requests at once: all answered, never more than ${DEFAULT_MAX_CONCURRENT} in flight`, async () => {
    const { api, phone } = miniProgram()
    await api.login()
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => api.request(slow(i))))
    expect(answers.map((res) => res.statusCode)).toEqual(Array(30).fill(200))
    expect(phone.state.maxInFlight).toBe(RUNTIME_MAX_IN_FLIGHT)
  })

  it('requests, uploads and downloads share the limit, and the first login is inside it', async () => {
    const { api, phone } = miniProgram()
    const file = await localFile(randomBytes(1000))
    const calls = Array.from({ length: 12 }, (_, i) => [
      api.request(slow(i)),
      api.uploadFile({ url: '/__dev/upload', filePath: file.path, name: 'f' }),
      api.downloadFile({ url: '/__dev/download?size=5000' }),
    ]).flat()
    const answers = await Promise.all(calls)
    expect(answers.map((res) => res.statusCode)).toEqual(Array(36).fill(200))
    expect(phone.state.maxInFlight).toBe(RUNTIME_MAX_IN_FLIGHT)
    expect(phone.state.logins).toBe(1)
  })

  it('maxConcurrent sets it', async () => {
    const { api, phone } = miniProgram({ maxConcurrent: 3 })
    await api.login()
    await Promise.all(Array.from({ length: 12 }, (_, i) => api.request(slow(i))))
    expect(phone.state.maxInFlight).toBe(3)
  })

  it('without the limit the runtime refuses calls (what the queue prevents)', async () => {
    const { api } = miniProgram({ maxConcurrent: 100 })
    await api.login()
    const settled = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => api.request(slow(i))),
    )
    const refused = settled.filter((r) => r.status === 'rejected')
    expect(refused.length).toBeGreaterThan(0)
    expect((refused[0] as PromiseRejectedResult).reason.code).toBe('NETWORK_ERROR')
  })
})
