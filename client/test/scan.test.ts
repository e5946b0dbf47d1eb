import { describe, expect, it } from 'vitest'
import { baseUrl, miniProgram, rejection } from './helpers'

/** The PC's side, as a browser does it: a ticket, then polls. */
async function pc() {
  const res = await fetch(`${baseUrl}/auth/scan`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  })
  expect(res.status).toBe(200)
  const { ticket } = (await res.json()) as { ticket: string }
  const poll = async () => {
    const answer = await fetch(`${baseUrl}/auth/scan/${ticket}`)
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> }
  }
  return { ticket, poll }
}

describe('confirmScan', () => {
  it('logs the mini program in, marks the ticket scanned and confirms it: the PC gets the same user', async () => {
    const { api, trail } = miniProgram()
    const { ticket, poll } = await pc()
    // The page's scene option, as the developer tools pass it (encoded).
    const scanned = await api.confirmScan(encodeURIComponent(ticket), 'scanned')
    expect(scanned.pc?.requestedAt).toEqual(expect.any(Number))
    expect((await poll()).body).toEqual({ status: 'scanned' })
    await api.confirmScan(ticket)
    const answer = await poll()
    expect(answer.body.status).toBe('confirmed')
    expect((answer.body.user as { id: string }).id).toBe(api.session()?.user.id)
    expect(trail()).toEqual([
      'POST /auth/login 200',
      `POST /auth/scan/${ticket}/scanned 200`,
      `POST /auth/scan/${ticket}/confirm 200`,
    ])
    const again = await rejection(api.confirmScan(ticket))
    expect([again.code, again.status]).toEqual(['SCAN_TICKET_USED', 409])
  })

  it('deny refuses it; a scene that is not a ticket is a 400, never another route', async () => {
    const { api } = miniProgram()
    const { ticket, poll } = await pc()
    await api.confirmScan(ticket, 'deny')
    expect((await poll()).body).toEqual({ status: 'denied' })
    const odd = await rejection(api.confirmScan('abc'))
    expect([odd.code, odd.status]).toEqual(['INVALID_REQUEST', 400])
    // Encoded, a path in the scene stays one segment, which the SDK refuses before sending.
    expect((await rejection(api.confirmScan('../logout'))).code).toBe('BAD_URL')
    expect(api.session()).not.toBeNull()
  })
})
