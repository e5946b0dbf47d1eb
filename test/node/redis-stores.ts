// The Redis stores of one process over a connection of the test's: sealed
// records under a fresh key and the session authority, as node() wires them.
import { randomBytes } from 'node:crypto'
import { redisAuthority } from '../../src/runtime/node/authority'
import { redisKv } from '../../src/runtime/node/kv'
import type { RedisConnection } from '../../src/runtime/node/redis'
import { createCipher } from '../../src/storage/cipher'
import { sealedKv } from '../../src/storage/sealed-kv'
import { quiet } from './records'

/** Sealed records and the session authority over `connection`, keys under `prefix`. */
export function redisStores(connection: RedisConnection, prefix: string) {
  const sealed = sealedKv(
    redisKv(connection, prefix),
    createCipher(randomBytes(32).toString('base64url')),
  )
  const authority = redisAuthority({ connection, prefix, sealed, objects: undefined, log: quiet })
  return { sealed, authority }
}
