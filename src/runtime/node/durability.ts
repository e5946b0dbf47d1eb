import type { RedisConnection } from './redis'

/** What `REDIS_DURABILITY` does with a setting that loses acknowledged writes. */
export type DurabilityMode = 'warn' | 'strict'

/** The Redis settings that decide what survives (`unknown` where `CONFIG GET` is refused). */
export interface RedisSettings {
  appendonly: string
  appendfsync: string
  'maxmemory-policy': string
}

export const UNKNOWN = 'unknown'
const NAMES = ['appendonly', 'appendfsync', 'maxmemory-policy'] as const

/**
 * Reads the settings with `CONFIG GET`, one at a time: a managed Redis that
 * refuses `CONFIG` (or renamed it) gives `unknown`, never an error. On
 * Sentinel they are the master's; on a cluster, the master of slot 0's.
 */
export async function readSettings(connection: RedisConnection): Promise<RedisSettings> {
  const values = await Promise.all(
    NAMES.map(async (name) => {
      try {
        const reply = await connection.send('', ['CONFIG', 'GET', name])
        const list = Array.isArray(reply) ? reply : Object.entries(reply ?? {}).flat()
        const value = list[1]
        return typeof value === 'string' && value ? value : UNKNOWN
      } catch {
        return UNKNOWN
      }
    }),
  )
  return Object.fromEntries(NAMES.map((name, i) => [name, values[i]])) as unknown as RedisSettings
}

/** Each setting that loses acknowledged writes, named, with what it loses and the fix. */
export function durabilityRisks(settings: RedisSettings): string[] {
  const risks: string[] = []
  if (settings.appendonly === 'no') {
    risks.push(
      'appendonly no: a restart of Redis loses every change since its last snapshot (logins are lost, logouts and revocations undone); set appendonly yes',
    )
  } else if (settings.appendfsync === 'no') {
    risks.push(
      'appendfsync no: a crash of the machine loses the changes the kernel had not yet written (about 30 s); set appendfsync everysec or always',
    )
  }
  const policy = settings['maxmemory-policy']
  if (policy !== UNKNOWN && policy !== 'noeviction') {
    risks.push(
      `maxmemory-policy ${policy}: Redis deletes keys when memory runs short (a session row, a tombstone, a push claim); set maxmemory-policy noeviction`,
    )
  }
  return risks
}
