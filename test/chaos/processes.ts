// The processes this one started, as Linux shows them in /proc: the chaos
// run kills the runtime it spawned, and only that one.
import { readdirSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

export interface ProcessInfo {
  pid: number
  /** The executable's name as the kernel keeps it (at most 15 characters). */
  command: string
  /** `R`, `S`, `Z` (exited, not yet reaped), … */
  state: string
}

/** `/proc/<pid>/stat`, or undefined once the process is gone. */
export function processInfo(pid: number): (ProcessInfo & { parent: number }) | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // `pid (command) state ppid …`; the command may hold spaces and parentheses.
  const close = stat.lastIndexOf(')')
  const [state = '?', parent = '0'] = stat.slice(close + 2).split(' ')
  return { pid, command: stat.slice(stat.indexOf('(') + 1, close), state, parent: Number(parent) }
}

/** The live children of `parent` (this process by default). */
export function childProcesses(parent = process.pid): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      const info = processInfo(Number(entry))
      return info && info.parent === parent && info.state !== 'Z'
        ? [{ pid: info.pid, command: info.command, state: info.state }]
        : []
    })
}

/** SIGKILLs each process and waits until none of them runs any more. */
export async function killAndWait(pids: readonly number[], timeoutMs = 5000): Promise<void> {
  for (const pid of pids) process.kill(pid, 'SIGKILL')
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const alive = pids.filter((pid) => {
      const info = processInfo(pid)
      return info !== undefined && info.state !== 'Z'
    })
    if (alive.length === 0) return
    if (performance.now() > deadline) throw new Error(`still running after SIGKILL: ${alive}`)
    await sleep(10)
  }
}
