// wrangler, kept from calling Cloudflare on its own: no telemetry, no download
// of the `Request.cf` object. `node scripts/wrangler.mjs <args>` runs it as is.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { delimiter } from 'node:path'
import { fileURLToPath } from 'node:url'

// The project's own binaries first, so wrangler runs on the pinned Node even
// when this script is started outside npm.
const bin = fileURLToPath(new URL('../node_modules/.bin', import.meta.url))

export const quietEnv = {
  ...process.env,
  PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
}

/**
 * Runs wrangler with `args`, sharing this process's terminal; resolves with its exit code.
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} [options]
 * @returns {Promise<number>}
 */
export function wrangler(args, options = {}) {
  const child = spawn('wrangler', args, { stdio: 'inherit', env: quietEnv, ...options })
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
    process.on(signal, () => child.kill(signal))
  }
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))),
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exit(await wrangler(process.argv.slice(2)))
}

export const STEP_TIMEOUT = 5 * 60_000 // ms, one command of a test script (an install is the slow one)

/**
 * Runs a command to the end with `quietEnv` (and `env`), its output kept for
 * the error it throws on a non-zero exit; ended after {@link STEP_TIMEOUT}.
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string>, stderr?: boolean }} [options]
 * @returns {Promise<string>} what it printed on stdout (and on stderr after it, with `stderr`)
 */
export function run(command, args, { cwd = process.cwd(), env = {}, stderr = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...quietEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout?.on('data', (chunk) => (out += chunk))
    child.stderr?.on('data', (chunk) => (err += chunk))
    const timer = setTimeout(() => child.kill('SIGTERM'), STEP_TIMEOUT)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(stderr ? `${out}\n${err}` : out)
      else {
        const how = signal ? `signal ${signal}` : `exit ${code}`
        reject(new Error(`${command} ${args.join(' ')} (in ${cwd}): ${how}\n${out}\n${err}`))
      }
    })
  })
}

/**
 * The version of `name` this checkout's lock file installed, for the projects
 * the install tests make: a newer wrangler can ask for a workers-types the
 * registry does not have yet (wrangler 4.168.0 and workers-types
 * ^5.20261123.1, on 2026-12-07), which would fail the test for no fault of ours.
 * @param {string} name
 */
export const tested = (name) =>
  JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8'))
    .version
