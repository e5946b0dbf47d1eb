import type { Context } from 'hono'
import { WxaAuthError } from '../../errors'

/** The socket's peer, as `@hono/node-server` hands over the Node request (`c.env.incoming`). */
function socketAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  return env?.incoming?.socket?.remoteAddress
}

/**
 * How many proxies in front of the server may be believed (`TRUST_PROXY`):
 * `0` or unset, none; `1`, one (nginx, a cloud's gateway); up to 9.
 */
export function trustedProxies(value: unknown): number {
  if (value === undefined || value === '') return 0
  const text = String(value).trim()
  if (!/^[0-9]$/.test(text)) {
    throw new WxaAuthError('CONFIG_INVALID', 'TRUST_PROXY must be a number of proxies, 0 to 9.')
  }
  return Number(text)
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const HEX_GROUP = /^[0-9a-f]{1,4}$/i

/** Whether `text` is an IPv6 address in text form (RFC 4291 2.2; no zone). */
function isIpv6(text: string): boolean {
  const halves = text.split('::')
  if (halves.length > 2) return false
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')))
  const all = groups.flat()
  // An embedded IPv4 address is the last part and counts for two groups.
  const last = all[all.length - 1]
  const v4 = last !== undefined && IPV4.test(last)
  const hex = v4 ? all.slice(0, -1) : all
  if (!hex.every((group) => HEX_GROUP.test(group))) return false
  const count = hex.length + (v4 ? 2 : 0)
  return halves.length === 2 ? count <= 7 : count === 8
}

/**
 * The address in one `X-Forwarded-For` entry, or undefined when it is not
 * one: an IPv4 or IPv6 address, as is, or with a port as some proxies write
 * it (`192.0.2.1:443`, `[2001:db8::1]:443`, `[2001:db8::1]`). Anything else
 * (a name, `unknown`, a forged string) is not believed.
 */
export function forwardedAddress(entry: string): string | undefined {
  if (IPV4.test(entry) || isIpv6(entry)) return entry
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(entry)
  if (bracketed) return isIpv6(bracketed[1] as string) ? bracketed[1] : undefined
  const withPort = /^([\d.]+):\d{1,5}$/.exec(entry)
  return withPort && IPV4.test(withPort[1] as string) ? withPort[1] : undefined
}

/** The entries of a forwarding header, outermost first. */
const hopsOf = (c: Context, header: string) =>
  (c.req.header(header) ?? '')
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean)

/**
 * The client's address on Node: the socket's peer; behind `proxies` trusted
 * proxies, the address the outermost of them saw (the `proxies`-th entry of
 * `X-Forwarded-For` from the right: each proxy appends the peer it saw, and
 * anything further left is whatever the client wrote). An entry that is not
 * an IP address is not believed: the socket's peer counts then.
 */
export function nodeClientAddress(proxies: number) {
  return (c: Context): string | undefined => {
    if (proxies > 0) {
      const hops = hopsOf(c, 'X-Forwarded-For')
      const seen = forwardedAddress(hops[hops.length - proxies] ?? hops[0] ?? '')
      if (seen) return seen
    }
    return socketAddress(c)
  }
}

/**
 * The client's address in WeChat Cloud Hosting (`CLOUD_HOSTING=wechat`): what
 * its gateway puts in `X-Original-Forwarded-For`, the last entry (the one the
 * gateway appended, should a client have sent the header too); else the
 * socket's peer, which there is always the gateway. An entry that is not an
 * IP address is not believed, as with `X-Forwarded-For`.
 * https://developers.weixin.qq.com/miniprogram/dev/wxcloudrun/src/development/weixin/
 */
export function cloudHostingClientAddress(c: Context): string | undefined {
  const hops = hopsOf(c, 'X-Original-Forwarded-For')
  return forwardedAddress(hops[hops.length - 1] ?? '') ?? socketAddress(c)
}
