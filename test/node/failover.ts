// A workload of session writes from the three processes while Redis fails
// over: what each write answered, and which acknowledged writes are missing
// once Redis has settled.
import { codeOf, type Suite } from './three-processes'

const WRITE_FOR_MS = 1000 // writes before the failure
const RECOVER_WITHIN_MS = 40_000 // a failover that takes longer fails the test

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface FailoverRun {
  /** Status and error code of every write, in order, per user. */
  answers: { status: number; code: string | null; after: boolean }[]
  /** Writes acknowledged (200) that are not in the session once Redis settled. */
  lost: string[]
  /** How many writes were acknowledged. */
  acknowledged: number
  /** Milliseconds from the failure to the first 200 of every user. */
  recoveredInMs: number
}

/**
 * `users` users write `{ w<n>: n }` to their session in turn from the three
 * processes; after a second `fail()` runs; writing goes on until every user
 * has had a 200 that it sent after it; `settle()` runs meanwhile. Then each
 * session is read back.
 */
export async function writeThroughFailover(
  suite: Suite,
  {
    fail,
    settle = async () => {},
    users = 6,
  }: { fail: () => Promise<void>; settle?: () => Promise<void>; users?: number },
): Promise<FailoverRun> {
  const callers = suite.callers
  const tokens = await Promise.all(
    Array.from({ length: users }, (_, i) =>
      suite.loginAt(callers[i % 3] as never, `failover-${Date.now()}-${i}`),
    ),
  )
  const answers: FailoverRun['answers'] = []
  const acked = new Map<string, string[]>()
  let failedAt = 0
  const recovered = new Set<number>()
  let stop = false
  const loops = tokens.map(async ({ token }, u) => {
    const mine: string[] = []
    acked.set(token, mine)
    for (let n = 0; !stop; n++) {
      const at = callers[n % 3] as Suite['callers'][0]
      const after = failedAt > 0
      const res = await at('/me/session', { method: 'PATCH', token, json: { [`w${n}`]: n } })
      answers.push({ status: res.status, code: codeOf(res), after })
      if (res.status === 200) {
        mine.push(`w${n}`)
        if (after) recovered.add(u)
      } else await sleep(100)
    }
  })
  await sleep(WRITE_FOR_MS)
  await fail()
  failedAt = Date.now()
  await settle()
  const deadline = failedAt + RECOVER_WITHIN_MS
  while (recovered.size < users && Date.now() < deadline) await sleep(100)
  const recoveredInMs = Date.now() - failedAt
  stop = true
  await Promise.all(loops)
  if (recovered.size < users) {
    const codes = answers.filter((a) => a.after).map((a) => `${a.status} ${a.code}`)
    throw new Error(
      `${users - recovered.size} of ${users} users got no 200 after the failure; answers after it: ${[...new Set(codes)].join(', ')}`,
    )
  }
  const lost: string[] = []
  for (const [token, keys] of acked) {
    let me = await callers[0]('/me', { token })
    for (let i = 0; i < 50 && me.status !== 200; i++) {
      await sleep(100)
      me = await callers[0]('/me', { token })
    }
    if (me.status !== 200) throw new Error(`a session reads ${me.status} after the failover`)
    for (const key of keys) if (!(key in me.body.session)) lost.push(key)
  }
  const acknowledged = [...acked.values()].reduce((sum, keys) => sum + keys.length, 0)
  return { answers, lost, acknowledged, recoveredInMs }
}
