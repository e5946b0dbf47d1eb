import { WxaAuthError } from '../errors'
import type { DeviceInfo } from './record'

/**
 * The most the device hints of a session may weigh as JSON, in bytes of
 * UTF-8. They ride in every copy of the session record (the object's row,
 * the KV replica, the device list), so they stay small whatever the client sends.
 */
export const MAX_DEVICE_BYTES = 900
export const MAX_USER_AGENT = 200 // characters kept of the User-Agent, at most

const encoder = new TextEncoder()
/** Bytes of `value` as JSON text in UTF-8: escapes (`\"`, `\u0001`) and CJK count in full. */
const jsonBytes = (value: unknown) => encoder.encode(JSON.stringify(value)).length

/**
 * The device hints of a login: the client's `device` and as much of the
 * User-Agent as fits in {@link MAX_DEVICE_BYTES}. Checked before WeChat is
 * asked, so that a login refused for its input never spends the code.
 *
 * @throws WxaAuthError `INVALID_REQUEST` when `device` alone does not fit
 */
export function deviceHints(device: DeviceInfo = {}, userAgent = ''): DeviceInfo {
  const { userAgent: _ignored, ...hints } = device
  let budget = MAX_DEVICE_BYTES - jsonBytes(hints)
  if (budget < 0) {
    throw new WxaAuthError(
      'INVALID_REQUEST',
      `Invalid request: body.device is over ${MAX_DEVICE_BYTES} bytes as JSON.`,
    )
  }
  budget -= jsonBytes({ userAgent: '' }) - jsonBytes({})
  let kept = ''
  let count = 0
  for (const ch of userAgent) {
    const cost = jsonBytes(ch) - 2
    if (cost > budget || count >= MAX_USER_AGENT) break
    budget -= cost
    kept += ch
    count++
  }
  return kept ? { ...hints, userAgent: kept } : hints
}
