// The store suite (test/stores/suite.ts) over the Durable Object `UserSessions`,
// inside workerd: the authority reaches each user's object through the stub
// of the USER_SESSIONS binding, identities in the SESSIONS KV, avatars in R2.
// Its outcome-unknown answers need an injected RPC fault: test/faults.test.ts
// and test/profile.test.ts hold them over HTTP.
import { durableAuthority } from '../../src/runtime/cloudflare/authority'
import { workersKv } from '../../src/runtime/cloudflare/kv'
import { r2Objects } from '../../src/runtime/cloudflare/r2'
import { sealedKv } from '../../src/storage/sealed-kv'
import { testCipher, testEnv } from '../helpers'
import { storeSuite } from './suite'

storeSuite('Durable Object', () => ({
  authority: durableAuthority(testEnv.USER_SESSIONS),
  identities: sealedKv(workersKv(testEnv.SESSIONS), testCipher()),
  objects: r2Objects(testEnv.AVATARS as R2Bucket),
}))
