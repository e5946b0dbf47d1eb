// The store suite (test/stores/suite.ts) over the Durable Object `UserSessions`,
// inside workerd: the authority reaches each user's object through the stub
// of the USER_SESSIONS binding, identities in the SESSIONS KV, avatars in R2.
// The outcome-unknown part cuts the RPC link as workerd reports a lost
// connection (test/faults.test.ts holds the same over HTTP).
import { durableAuthority } from '../../src/runtime/cloudflare/authority'
import { workersKv } from '../../src/runtime/cloudflare/kv'
import { r2Objects } from '../../src/runtime/cloudflare/r2'
import { sealedKv } from '../../src/storage/sealed-kv'
import { testCipher, testEnv } from '../helpers'
import { storeSuite } from './suite'

const binding = testEnv.USER_SESSIONS as DurableObjectNamespace

/** USER_SESSIONS whose stubs fail every call as a lost connection does while `link.down`. */
function cut(link: { down: boolean }): DurableObjectNamespace {
  return {
    idFromName: (name: string) => binding.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = binding.get(id) as unknown as Record<string, (...args: unknown[]) => unknown>
      return new Proxy(stub, {
        get:
          (target, prop: string) =>
          (...args: unknown[]) =>
            link.down
              ? Promise.reject(new Error('Network connection lost.'))
              : target[prop]?.(...args),
      })
    },
  } as unknown as DurableObjectNamespace
}

storeSuite(
  'Durable Object',
  () => ({
    authority: durableAuthority(binding),
    identities: sealedKv(workersKv(testEnv.SESSIONS), testCipher()),
    objects: r2Objects(testEnv.AVATARS as R2Bucket),
  }),
  {
    async unreachable() {
      const link = { down: false }
      const authority = durableAuthority(cut(link))
      link.down = true
      return {
        authority,
        restore: async () => {
          link.down = false
        },
      }
    },
  },
)
