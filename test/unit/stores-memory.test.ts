// The store suite (test/stores/suite.ts) over the in-memory authority.
import { memoryAuthority } from '../../src/runtime/memory/authority'
import { memoryKv } from '../../src/runtime/memory/kv'
import { memoryObjects } from '../../src/runtime/memory/objects'
import { createCipher } from '../../src/storage/cipher'
import { sealedKv } from '../../src/storage/sealed-kv'
import { storeSuite } from '../stores/suite'

// Memory cannot be unreachable: no outcome-unknown answers to hold.
storeSuite('memory', () => {
  const identities = sealedKv(memoryKv(), createCipher('Vq3xT9mR2kLp8sWz4nYb7cHf1dJg6aEu-memory'))
  const objects = memoryObjects()
  return { authority: memoryAuthority({ identities, objects }), identities, objects }
})
