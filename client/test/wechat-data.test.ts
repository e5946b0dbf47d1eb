import { describe, expect, it } from 'vitest'
import { DEFAULT_LOGIN_COOLDOWN } from '../src'
import { emulator } from './device'
import { baseUrl, miniProgram, rejection } from './helpers'

const COOLED = DEFAULT_LOGIN_COOLDOWN + 1000 // ms

type Sealed = { encryptedData: string; iv: string }

/**
 * What `wx.getWeRunData` gives the mini program, from the emulator: `data`
 * encrypted with the user's session_key of the moment. Counts its calls and
 * the logins seen by each.
 */
function weRunData(program: ReturnType<typeof miniProgram>, data: Record<string, unknown>) {
  const source = {
    loginsSeen: [] as number[],
    async getData(): Promise<Sealed> {
      source.loginsSeen.push(program.phone.state.logins)
      return emulator<Sealed>(baseUrl, 'user-data', { openid: program.openid, data })
    },
  }
  return source
}

const STEPS = { stepInfoList: [{ timestamp: 1_700_000_000, step: 4321 }] }

describe('decrypt(getData)', () => {
  it('logs in before getData, posts to /auth/decrypt and answers the data', async () => {
    const program = miniProgram()
    const source = weRunData(program, STEPS)
    expect(await program.api.decrypt(source.getData)).toEqual(STEPS)
    expect(source.loginsSeen).toEqual([1])
    expect(program.trail()).toEqual(['POST /auth/login 200', 'POST /auth/decrypt 200'])
  })

  it('on SESSION_KEY_STALE logs in again, fetches the data anew and retries once', async () => {
    const program = miniProgram()
    const { api, clock, trail } = program
    const old = await api.login()
    // Another wx.login replaced the session_key at WeChat since.
    await emulator(baseUrl, `users/${program.openid}/rotate-session-key`, {})
    clock.advance(COOLED)

    const source = weRunData(program, STEPS)
    expect(await api.decrypt(source.getData)).toEqual(STEPS)
    expect(source.loginsSeen).toEqual([1, 2])
    expect(trail()).toEqual([
      'POST /auth/login 200',
      'POST /auth/decrypt 409',
      'POST /auth/login 200',
      'POST /auth/logout 200',
      'POST /auth/decrypt 200',
    ])
    // The replaced session was ended rather than left as another device.
    const me = await fetch(`${baseUrl}/me`, { headers: { authorization: `JWT ${old.token}` } })
    expect(me.status).toBe(401)
  })

  it('sends the code getData gives: decrypted with its session_key, no second login', async () => {
    const program = miniProgram()
    await program.api.login()
    // Another wx.login replaced the session_key; this one's code comes with the data.
    await emulator(baseUrl, `users/${program.openid}/rotate-session-key`, {})
    const code = await program.phone.login()
    const source = weRunData(program, STEPS)
    const data = await program.api.decrypt(async () => ({ ...(await source.getData()), code }))
    expect(data).toEqual(STEPS)
    expect(program.trail()).toEqual(['POST /auth/login 200', 'POST /auth/decrypt 200'])
    expect(JSON.parse(program.phone.state.sent[1]?.body ?? '{}').code).toBe(code)
  })

  it('does not log in for it within the cooldown: LOGIN_COOLDOWN, getData once', async () => {
    const program = miniProgram()
    await program.api.login()
    await emulator(baseUrl, `users/${program.openid}/rotate-session-key`, {})
    const source = weRunData(program, STEPS)
    const error = await rejection(program.api.decrypt(source.getData))
    expect(error.code).toBe('LOGIN_COOLDOWN')
    expect(source.loginsSeen).toEqual([1])
    expect(program.phone.state.logins).toBe(1)
  })

  it('retries once only: stale again is the server error', async () => {
    const program = miniProgram()
    await program.api.login()
    program.clock.advance(COOLED)
    const source = weRunData(program, STEPS)
    let calls = 0
    const error = await rejection(
      program.api.decrypt(async () => {
        calls++
        // Each time, as if wx.login had run behind the SDK's back once more.
        await emulator(baseUrl, `users/${program.openid}/rotate-session-key`, {})
        return source.getData()
      }),
    )
    expect(error.code).toBe('SESSION_KEY_STALE')
    expect(error.status).toBe(409)
    expect(calls).toBe(2)
    expect(program.phone.state.logins).toBe(2)
  })

  it('bad data is DECRYPT_FAILED, and no login', async () => {
    const program = miniProgram()
    const source = weRunData(program, STEPS)
    const error = await rejection(
      program.api.decrypt(async () => {
        const sealed = await source.getData()
        return { ...sealed, encryptedData: `${sealed.encryptedData.replace(/\+/g, ' ')}AAAA` }
      }),
    )
    expect(error.code).toBe('DECRYPT_FAILED')
    expect(program.phone.state.logins).toBe(1)
  })
})

describe('phone(code)', () => {
  it("answers the number behind a phone-number button's code", async () => {
    const { api, openid, trail } = miniProgram()
    await api.login()
    const { code } = await emulator<{ code: string }>(baseUrl, 'phone-code', {
      openid,
      phoneNumber: '13800138000',
    })
    expect(await api.phone(code)).toEqual({
      phoneNumber: '13800138000',
      purePhoneNumber: '13800138000',
      countryCode: '86',
    })
    expect(trail().at(-1)).toBe('POST /auth/phone 200')

    const used = await rejection(api.phone(code))
    expect(used.code).toBe('PHONE_CODE_INVALID')
    expect(used.status).toBe(400)
  })
})
