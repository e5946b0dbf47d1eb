// The directory and audit log suite (test/stores/operators-suite.ts) over the in-memory adapters.
import type { StoredAuditRecord } from '../../src/operators/ports'
import { memoryAudit } from '../../src/runtime/memory/audit'
import { memoryDirectory } from '../../src/runtime/memory/directory'
import { operatorStoresSuite } from '../stores/operators-suite'

operatorStoresSuite('memory', () => {
  const records: StoredAuditRecord[] = []
  return { directory: memoryDirectory(), audit: (settings) => memoryAudit(settings, records) }
})
