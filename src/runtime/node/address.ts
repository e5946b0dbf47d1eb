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

/**
 * The client's address on Node: the socket's peer; behind `proxies` trusted
 * proxies, the address the outermost of them saw (the `proxies`-th entry of
 * `X-Forwarded-For` from the right: each proxy appends the peer it saw, and
 * anything further left is whatever the client wrote).
 */
export function nodeClientAddress(proxies: number) {
  return (c: Context): string | undefined => {
    if (proxies > 0) {
      const hops = (c.req.header('X-Forwarded-For') ?? '')
        .split(',')
        .map((hop) => hop.trim())
        .filter(Boolean)
      const seen = hops[hops.length - proxies] ?? hops[0]
      if (seen) return seen
    }
    return socketAddress(c)
  }
}

/**
 * The client's address in WeChat Cloud Hosting (`CLOUD_HOSTING=wechat`): what
 * its gateway puts in `X-Original-Forwarded-For`, the last entry (the one the
 * gateway appended, should a client have sent the header too); else the
 * socket's peer, which there is always the gateway.
 * https://developers.weixin.qq.com/miniprogram/dev/wxcloudrun/src/development/weixin/
 */
export function cloudHostingClientAddress(c: Context): string | undefined {
  const hops = (c.req.header('X-Original-Forwarded-For') ?? '')
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean)
  return hops[hops.length - 1] ?? socketAddress(c)
}
