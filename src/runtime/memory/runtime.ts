import type { Variables } from '../../env'
import type { AuditLog } from '../../operators/ports'
import type { WxaRuntime } from '../runtime'
import { memoryAudit } from './audit'
import { memoryAuthority } from './authority'
import { memoryClaims } from './claims'
import { memoryDirectory } from './directory'
import { memoryKv } from './kv'
import { memoryObjects } from './objects'

/**
 * Everything in this process's memory: sessions, identities, claims, the
 * directory and the audit log. For
 * tests without workerd, and a single Node process without Redis; nothing
 * survives a restart, and several processes would not share it.
 *
 * @param vars the configuration variables (as wrangler.toml's `[vars]` would hold them)
 */
export function memoryRuntime(vars: Variables): WxaRuntime {
  const kv = memoryKv()
  const key = {}
  const claims = memoryClaims()
  const objects = memoryObjects()
  const directory = memoryDirectory()
  let authority: ReturnType<typeof memoryAuthority> | undefined
  let audit: AuditLog | undefined
  return {
    parts: () => ({
      key,
      vars,
      kv,
      authority: ({ sealed, objects: store }) => {
        authority ??= memoryAuthority({ identities: sealed, ...(store ? { objects: store } : {}) })
        return authority
      },
      objects,
      directory,
      audit: (settings) => (audit ??= memoryAudit(settings)),
      claims,
      rateLimits: {},
      replica: false,
    }),
  }
}
