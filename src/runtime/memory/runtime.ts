import type { Variables } from '../../env'
import type { WxaRuntime } from '../runtime'
import { memoryAuthority } from './authority'
import { memoryClaims } from './claims'
import { memoryKv } from './kv'

/**
 * Everything in this process's memory: sessions, identities, claims. For
 * tests without workerd, and a single Node process without Redis; nothing
 * survives a restart, and several processes would not share it.
 *
 * @param vars the configuration variables (as wrangler.toml's `[vars]` would hold them)
 */
export function memoryRuntime(vars: Variables): WxaRuntime {
  const kv = memoryKv()
  const key = {}
  const claims = memoryClaims()
  let authority: ReturnType<typeof memoryAuthority> | undefined
  return {
    parts: () => ({
      key,
      vars,
      kv,
      authority: (sealed) => {
        authority ??= memoryAuthority({ identities: sealed })
        return authority
      },
      claims,
      rateLimits: {},
      replica: false,
    }),
  }
}
