import type { Variables } from '../env'
import { WxaAuthError } from '../errors'
import { apiBase, text, whole } from '../util/variables'
import { type AppClientOptions, DEFAULT_TIMEOUT_MS } from './caller'
import type { Upstream } from './platform'

// The generic readers live in util/variables.ts; re-exported for the platforms.
export { apiBase, text, whole }

/**
 * The apps of one platform and their secrets, from its three variables:
 * `<P>_APP_ID` (several separated by spaces; the first is the default),
 * `<P>_APP_SECRET` (one app) or `<P>_APP_SECRETS` (`appid:secret …`).
 * Messages name the variable and the entry, never a secret.
 *
 * @param prefix e.g. `WECHAT`
 * @param pattern what an AppID of the platform looks like
 * @param secret what its AppSecret looks like (not checked for the upstream's stand-in)
 * @param standIn the upstream's secret when in development (no secret configured)
 */
export function appSecrets(
  vars: Variables,
  prefix: string,
  {
    pattern,
    shape,
    secret,
    standIn,
    defaultAppId,
  }: {
    pattern: RegExp
    shape: string
    secret?: { pattern: RegExp; shape: string }
    standIn?: string
    defaultAppId?: string | undefined
  },
): Map<string, string> {
  const ids = (text(vars, `${prefix}_APP_ID`) ?? defaultAppId ?? '').split(/\s+/).filter(Boolean)
  const bad = ids.findIndex((id) => !pattern.test(id))
  if (bad >= 0) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      `${prefix}_APP_ID: entry ${bad + 1} is not an AppID (${shape}).`,
    )
  }
  const pairs = new Map(
    (text(vars, `${prefix}_APP_SECRETS`) ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((item, i) => {
        const at = item.indexOf(':')
        if (at < 1 || at === item.length - 1) {
          throw new WxaAuthError(
            'CONFIG_INVALID',
            `${prefix}_APP_SECRETS: entry ${i + 1} is not appid:secret (pairs separated by spaces).`,
          )
        }
        return [item.slice(0, at), item.slice(at + 1)] as const
      }),
  )
  const single = vars[`${prefix}_APP_SECRET`]
  if (ids.length === 1 && typeof single === 'string' && single.trim()) {
    pairs.set(ids[0] as string, single.trim())
  }
  if ([...pairs.values()].some((secret) => /\s/.test(secret))) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      `${prefix}_APP_SECRET contains whitespace (a space or a line break pasted with it?).`,
    )
  }
  if (standIn !== undefined && pairs.size === 0) return new Map(ids.map((id) => [id, standIn]))
  const missing = ids.find((id) => !pairs.get(id))
  if (missing) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      ids.length === 1
        ? `${prefix}_APP_SECRET is not set.`
        : `${prefix}_APP_SECRETS has no secret for ${missing} (appid:secret, separated by spaces).`,
    )
  }
  const malformed = secret && ids.find((id) => !secret.pattern.test(pairs.get(id) as string))
  if (malformed) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      ids.length === 1 && !text(vars, `${prefix}_APP_SECRETS`)
        ? `${prefix}_APP_SECRET is not an AppSecret: it is ${secret.shape}.`
        : `${prefix}_APP_SECRETS: the secret for ${malformed} is not an AppSecret: it is ${secret.shape}.`,
    )
  }
  return new Map(ids.map((id) => [id, pairs.get(id) as string]))
}

/** One configured app of a platform: its AppID, and its client's options (secret, transport). */
export interface ConfiguredApp {
  appId: string
  client: AppClientOptions
}

/**
 * The apps a platform's variables configure, the same way for every platform:
 * `<P>_APP_ID`, `<P>_APP_SECRET` / `<P>_APP_SECRETS` (see {@link appSecrets}),
 * `<P>_API_BASE` (see {@link apiBase}) and `<P>_TIMEOUT_MS`. With an
 * `upstream` (development), its fetch and stand-in secret.
 */
export function configuredApps(
  vars: Variables,
  prefix: string,
  {
    pattern,
    shape,
    secret,
    upstream,
    secretOptional = false,
  }: {
    pattern: RegExp
    shape: string
    /** What a real AppSecret looks like, when the platform says. */
    secret?: { pattern: RegExp; shape: string }
    upstream: Upstream | undefined
    /** The apps may have no secret at all (each is then `''`). */
    secretOptional?: boolean
  },
): ConfiguredApp[] {
  const secrets = appSecrets(vars, prefix, {
    pattern,
    shape,
    ...(secret ? { secret } : {}),
    ...(upstream
      ? { standIn: upstream.appSecret, defaultAppId: upstream.defaultAppId }
      : secretOptional
        ? { standIn: '' }
        : {}),
  })
  const timeoutMs = whole(vars, `${prefix}_TIMEOUT_MS`, 1, DEFAULT_TIMEOUT_MS)
  const baseUrl = apiBase(vars, `${prefix}_API_BASE`)
  return [...secrets].map(([appId, appSecret]) => ({
    appId,
    client: {
      appId,
      appSecret,
      timeoutMs,
      ...(baseUrl ? { baseUrl } : {}),
      ...(upstream ? { fetch: upstream.fetch } : {}),
    },
  }))
}
