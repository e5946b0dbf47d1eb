import { expect } from 'vitest'
import type { BuiltPush } from '../src/emulator/push'
import { call, type Fetcher, type Reply } from './helpers'

/** A push as WeChat would send it, from the emulator (signed with the dev Token and key). */
export async function pushFor(input: Record<string, unknown>): Promise<BuiltPush> {
  const res = await call<BuiltPush>('POST', '/__emulator/push', { json: input })
  expect(res.status, res.text).toBe(200)
  return res.body
}

/** Sends a push to `app` as WeChat does. */
export function send(app: Fetcher, push: BuiltPush, query = push.query): Promise<Reply> {
  return call(
    'POST',
    `/wechat/events?${query}`,
    { body: push.body, headers: { 'Content-Type': push.contentType } },
    app,
  )
}

/** hex sha1 of the sorted parts, computed here, for hand-made requests. */
export async function sign(...parts: string[]): Promise<string> {
  const digest = await crypto.subtle.digest(
    'SHA-1',
    new TextEncoder().encode([...parts].sort().join('')),
  )
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}
