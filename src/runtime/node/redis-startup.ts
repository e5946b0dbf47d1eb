// What a first connection to Redis that failed says: the variable at fault and the likely fix.
import type { RedisConfig } from './redis-clients'

/** The variable a start-up error names, and the address it shows (never a password). */
export function startupSubject(
  kind: 'plain' | 'sentinel' | 'cluster',
  config: RedisConfig | undefined,
): { variable: string; url: string } {
  const variable = {
    plain: 'REDIS_URL',
    sentinel: 'REDIS_SENTINELS',
    cluster: 'REDIS_CLUSTER_NODES',
  }[kind]
  if (!config) return { variable, url: variable }
  const url =
    config.kind === 'plain'
      ? config.url
      : config.kind === 'sentinel'
        ? config.sentinels[0]
        : config.nodes[0]
  return { variable, url: url ?? variable }
}

/** Why Redis cannot be used at start, and what to change: an error that names `REDIS_URL`. */
export class RedisStartError extends Error {
  override name = 'RedisStartError'
}

/** `redis://host:port`, without the user or password the URL may carry. */
export function redisAddress(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}`
  } catch {
    return 'REDIS_URL'
  }
}

/**
 * What to change, for the error of a first connection that failed: the
 * message names the variable (`name`: REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES)
 * and the likely fix, never the password.
 * `final`: an error no retry mends (a password, a certificate).
 */
export function startupHint(
  err: Error | undefined,
  url: string,
  name = 'REDIS_URL',
): { hint: string; final: boolean } {
  const code = (err as { code?: string } | undefined)?.code ?? ''
  const message = err?.message ?? ''
  const where = redisAddress(url)
  const tls = url.startsWith('rediss:')
  if (/^NOAUTH|HELLO must be called with the client already authenticated/.test(message)) {
    return {
      final: true,
      hint: `Redis at ${where} asks for a password and ${name} has none: redis://:PASSWORD@host:port (redis://USER:PASSWORD@… for an ACL user)`,
    }
  }
  if (/^WRONGPASS|invalid password|invalid username-password/i.test(message)) {
    return {
      final: true,
      hint: `Redis at ${where} refused the user or password in ${name}: check them (characters such as @ : / # in a password must be percent-encoded)`,
    }
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code) || /certificate/i.test(message)) {
    return {
      final: true,
      hint: `the TLS certificate of Redis at ${where} is not trusted (${message}): give Node the CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem, or pass node({ redis: createClient({ url, socket: { tls: true, ca } }) })`,
    }
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return {
      final: false,
      hint: `the host of ${name} (${where}) does not resolve: check the host name (a cloud Redis gives a private address reachable from the same VPC)`,
    }
  }
  if (code === 'ECONNREFUSED') {
    return {
      final: false,
      hint: `nothing accepts connections at ${where}: is Redis running, and are the host and port of ${name} right?`,
    }
  }
  return {
    final: false,
    hint: tls
      ? `no TLS connection to ${where} (${message || 'no answer'}): is that port TLS? For a plain port use redis://; else check the firewall or security group`
      : `no answer from ${where} (${message || 'no answer'}): check the host and port of ${name}, the firewall or security group, and whether this Redis wants TLS (rediss://)`,
  }
}

/** Rejects with `error()` when `promise` is not settled within `ms`. */
export function deadline<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(error()), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}
