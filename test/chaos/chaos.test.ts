// The chaos run: a seeded random workload over three edge isolates and one
// strict isolate of the bundled Worker that share KV and the session objects
// (persisted on disk), SIGKILLed halfway with requests in flight and started
// again on the same state; then the checker over everything the servers
// acknowledged. `CHAOS_SEED=<n>` replays a seed's choices (timing still
// varies); `CHAOS_BREAK=cache|persistence` breaks the cluster on purpose, to
// show that the checker notices; `CHAOS_GRACE=<s>` is the refresh grace the
// checker assumes (0 = none, as 0.2); `CHAOS_HISTORY=<file>` writes the history.
import { randomInt } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { expect, it } from 'vitest'
import { type CheckName, check, inFlightAtCrash } from './checker'
import { acked } from './history'
import { startMiniflareCluster } from './miniflare-cluster'
import { childProcesses } from './processes'
import { runWorkload } from './workload'

const MAX_SESSIONS = 3
const CACHE_SECONDS = 5 // what the checker assumes, and the servers run with unless broken
const OPERATIONS = 1500
/** The 503 codes that say a storage call failed and its outcome is unknown. */
const UNKNOWN_OUTCOME_CODES = ['STORAGE_UNAVAILABLE', 'STORAGE_OUTCOME_UNKNOWN']

const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : randomInt(2 ** 31)
const broken = process.env.CHAOS_BREAK ?? ''
if (!['', 'cache', 'persistence'].includes(broken)) {
  throw new Error(`CHAOS_BREAK is cache or persistence, not ${broken}`)
}
const graceSeconds = Number(process.env.CHAOS_GRACE ?? 30)

it(`sessions stay safe through a crash (seed ${seed}${broken ? `, broken: ${broken}` : ''})`, async () => {
  console.log(`chaos: seed ${seed} (CHAOS_SEED=${seed} replays it)`)
  const started = performance.now()
  const cluster = await startMiniflareCluster({
    edges: 3,
    vars: {
      MAX_SESSIONS: String(MAX_SESSIONS),
      SESSION_CACHE_SECONDS: String(broken === 'cache' ? 60 : CACHE_SECONDS),
    },
    restart: broken === 'persistence' ? 'empty' : 'persisted',
  })
  let result: Awaited<ReturnType<typeof runWorkload>>
  try {
    result = await runWorkload(cluster, { seed, operations: OPERATIONS })
  } finally {
    await cluster.dispose()
  }
  expect(childProcesses().filter((p) => p.command === 'workerd')).toEqual([])

  const { history, crash } = result
  const violations = check(history, {
    maxSessions: MAX_SESSIONS,
    cacheSeconds: CACHE_SECONDS,
    graceSeconds,
    unknownOutcomeCodes: UNKNOWN_OUTCOME_CODES,
  })
  const ends = history.ops.filter(
    (op) => ['logout', 'revoke', 'logout-all'].includes(op.kind) && acked(op),
  ).length
  const writes = history.ops.filter((op) => op.kind === 'write' && acked(op))
  const live = new Set(
    history.ops.flatMap((op) => (op.kind === 'final-read' && acked(op) ? [op.token?.session] : [])),
  )
  const kept = writes.filter((op) => live.has(op.token?.session)).length
  console.log(
    `chaos: seed ${seed}, ${history.ops.length} operations, ${writes.length} acknowledged writes (${kept} in the ${live.size} sessions live at the end), ${ends} acknowledged ends, ${inFlightAtCrash(history).length} in flight at the crash (${crash?.killed.join(', ') ?? 'none'}), ${((performance.now() - started) / 1000).toFixed(1)} s${broken ? `, CHAOS_BREAK=${broken}` : ''}: ${violations.length} violations`,
  )
  const failed = new Map<CheckName, string[]>()
  for (const v of violations) failed.set(v.check, [...(failed.get(v.check) ?? []), v.message])
  for (const [name, messages] of failed) {
    console.log(`chaos: ${name}: ${messages.length}\n  ${messages.slice(0, 3).join('\n  ')}`)
  }
  const errors = cluster.output.filter((line) => /error/i.test(line))
  if (errors.length > 0)
    console.log(`chaos: the runtime logged ${errors.length} errors, first: ${errors[0]}`)
  if (process.env.CHAOS_HISTORY) {
    await writeFile(
      process.env.CHAOS_HISTORY,
      JSON.stringify({ seed, ...history, violations }, null, 1),
    )
  }
  expect(Object.fromEntries([...failed].map(([name, m]) => [name, m.length]))).toEqual({})
}, 120_000)
