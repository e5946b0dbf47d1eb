// The benches' processes: CPU time from /proc/<pid>/stat, the process tree,
// free ports, and children started and stopped by pid. Shared by
// bench/run.mjs (`npm run bench`) and bench/node.mjs (`npm run bench:node`).
import { execFileSync, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'

/** Clock ticks per second, the unit of utime and stime. */
export const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces). */
const statFields = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** CPU seconds (user + system, all threads) of a process, from /proc/<pid>/stat. */
export function cpuSeconds(pid) {
  const fields = statFields(pid)
  return (Number(fields[11]) + Number(fields[12])) / TICKS
}

/** CPU seconds of processes together; one that has exited counts nothing. */
export const cpuOf = (pids) =>
  pids.reduce((sum, pid) => {
    try {
      return sum + cpuSeconds(pid)
    } catch {
      return sum
    }
  }, 0)

/** The process and its descendants (gunicorn's workers, Miniflare's workerd). */
export function tree(root) {
  const parents = new Map()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      parents.set(Number(entry), Number(statFields(entry)[1]))
    } catch {}
  }
  const all = [root]
  for (let i = 0; i < all.length; i++) {
    for (const [pid, parent] of parents) if (parent === all[i]) all.push(pid)
  }
  return all
}

/** The command name of a process (`workerd`, `node`), or null once it is gone. */
export function commandOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
  } catch {
    return null
  }
}

/** A port free on loopback now. */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer().once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

const children = []

/** Spawns a child that {@link stopChildren} stops. */
export function spawnTracked(command, args, options) {
  const child = spawn(command, args, options)
  children.push(child)
  return child
}

/** Starts a child, resolving once a line of its output matches `ready`. */
export function start(command, args, { env = {}, ready, cwd } = {}) {
  const child = spawnTracked(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd ? { cwd } : {}),
  })
  const output = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command}: no start\n${output.join('\n')}`)),
      30_000,
    )
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line)
        if (process.env.BENCH_DEBUG) console.error(`${command}: ${line}`)
        if (ready.test(line)) {
          clearTimeout(timer)
          resolve(child)
        }
      })
    }
    child.once('error', reject)
    child.once('exit', (code) =>
      reject(new Error(`${command} exited ${code}\n${output.join('\n')}`)),
    )
  })
}

/** Stops every child started here, each with what it started (gunicorn's workers), by pid. */
export function stopChildren() {
  for (const child of children.splice(0)) {
    for (const pid of child.pid ? tree(child.pid).reverse() : []) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
  }
}
