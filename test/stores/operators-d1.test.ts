// The directory and audit log suite (test/stores/operators-suite.ts) over D1,
// inside workerd: Miniflare's D1 of the `DB` binding ([env.dev] in wrangler.toml).
import { d1Audit, d1Directory } from '../../src/runtime/cloudflare/d1'
import { testEnv } from '../helpers'
import { operatorStoresSuite } from './operators-suite'

const db = testEnv.DB as D1Database

operatorStoresSuite('D1', () => ({
  directory: d1Directory(db),
  audit: (settings) => d1Audit(db, settings),
}))
