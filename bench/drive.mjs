// Driving a server under test from the bench: one load run in its own
// process (bench/load.mjs), JSON calls, login codes from the emulator, and
// the statistics of interleaved rounds.
import { createInterface } from 'node:readline'
import { spawnTracked } from './proc.mjs'

let generator

/**
 * One autocannon run in the load generator's process (bench/load.mjs
 * --serve, started once): not this process, not the server's. Options go
 * as a line of JSON, so that thousands of codes or tokens fit.
 */
export function load(options) {
  if (!generator) {
    const child = spawnTracked(process.execPath, ['bench/load.mjs', '--serve'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    const waiting = []
    createInterface({ input: child.stdout }).on('line', (line) =>
      waiting.shift()?.resolve(JSON.parse(line)),
    )
    child.once('exit', (code) => {
      generator = undefined
      for (const run of waiting.splice(0)) run.reject(new Error(`bench/load.mjs exited ${code}`))
    })
    generator = { child, waiting }
  }
  const { child, waiting } = generator
  return new Promise((resolve, reject) => {
    waiting.push({ resolve, reject })
    child.stdin.write(`${JSON.stringify(options)}\n`)
  })
}

/** A JSON call; once more when a kept-alive socket was closed under it (idle past the server's 5 s). */
export async function call(url, { method = 'POST', body, token } = {}, retry = true) {
  try {
    const res = await fetch(url, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `JWT ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const answer = await res.json()
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(answer)}`)
    return answer
  } catch (err) {
    if (!retry || !(err instanceof TypeError)) throw err
    return call(url, { method, body, token }, false)
  }
}

/** A JSON POST. */
export const post = (url, body, token) => call(url, { body, token })

/** Runs `make(i)` for i in [0, n), `width` at a time, in order. */
export async function batched(n, make, width = 50) {
  const all = []
  for (let i = 0; i < n; i += width) {
    const batch = Array.from({ length: Math.min(width, n - i) }, (_, j) => make(i + j))
    all.push(...(await Promise.all(batch)))
  }
  return all
}

/**
 * Login codes from the emulator at `emulator`, one per openid; with
 * `rotateSessionKey`, each login brings a new session_key, as WeChat gives
 * one when the old one has expired.
 */
export const codes = (emulator, openids, { rotateSessionKey = false } = {}) =>
  batched(openids.length, (i) =>
    post(`${emulator}/__emulator/code`, {
      openid: openids[i],
      ...(rotateSessionKey ? { rotateSessionKey } : {}),
    }).then((r) => r.code),
  )

/**
 * Logs each openid in once; their tokens (or another field of the answer:
 * `refreshToken`; null: the whole answer), in order.
 */
export async function loginAll(app, emulator, openids, field = 'token') {
  const all = await codes(emulator, openids)
  return batched(all.length, (i) =>
    post(`${app}/auth/login`, { code: all[i] }).then((r) => (field === null ? r : r[field])),
  )
}

/** The median, the least and the greatest of some numbers. */
export function spread(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN }
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { median, min: sorted[0], max: sorted[sorted.length - 1] }
}

/** A number for a table: grouped thousands, `digits` decimals, a dash for none. */
export const fmt = (n, digits = 0) =>
  n === null || n === undefined || Number.isNaN(n)
    ? '–'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** `median (min–max)`. */
export const ranged = ({ median, min, max }, digits = 0) =>
  `${fmt(median, digits)} (${fmt(min, digits)}–${fmt(max, digits)})`
