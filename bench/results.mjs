// The result file of a `npm run bench`: bench/results/<version>.json, one per
// version, overwritten by the next run of the same version and committed
// with it, so that the docs' benchmark page shows the versions side by side
// (bench/history.mjs). It holds the date, the machine (cores, Node, the load
// average around the run: others may share the cores), each goal as the
// report printed it (pass or miss), and the headline figures per scenario.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { spread } from './drive.mjs'
import { costPerMillion, PRICES_DATE } from './prices.mjs'

export const RESULTS_DIR = 'bench/results'

/**
 * The version a run measures: package.json's, or the CHANGELOG's newest
 * section when that one is still unreleased (package.json keeps the last
 * release's number until the release): its figures are not the release's.
 */
export function benchedVersion(root = '.') {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8')
  const next = /^## (\d+\.\d+\.\d+) \(unreleased\)/m.exec(changelog)?.[1]
  return next && next !== version ? { version: next, released: false } : { version, released: true }
}

/** The load average now: 1, 5 and 15 minutes. */
export const loadNow = () => loadavg().map((n) => Math.round(n * 100) / 100)

const round = (n, digits) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : null)
const ranged = ({ median, min, max }, digits) => ({
  median: round(median, digits),
  min: round(min, digits),
  max: round(max, digits),
})

/** One scenario's rounds, summed up: CPU, throughput, errors and, where counted, what it bills. */
function figuresOf({ name, per }, rounds) {
  const of = (field) => spread(rounds.map((run) => run[field]))
  const figure = {
    name,
    ...(per ? { inIsolate: true } : {}),
    cpuUs: ranged(of('cpuUs'), 0),
    rps: round(of('rps').median, 0),
    errors: rounds.reduce((sum, run) => sum + run.errors, 0),
  }
  if (rounds[0]?.reads === undefined || per) return figure
  const median = (field) => round(of(field).median, 2)
  const costs = rounds.map((run) => costPerMillion({ ...run, cpuMs: run.cpuUs / 1000 }).total)
  return {
    ...figure,
    kvReads: median('reads'),
    kvWrites: median('writes'),
    kvDeletes: median('deletes'),
    kvLists: median('lists'),
    objectRequests: median('objectRequests'),
    rowsRead: median('rowsRead'),
    rowsWritten: median('rowsWritten'),
    d1RowsWritten: median('d1RowsWritten'),
    dollarsPerMillion: ranged(spread(costs), 6),
  }
}

/** The goal lines of a report (`- pass: …`, `- miss: …`), as printed. */
export const goalsOf = (text) =>
  [...text.matchAll(/^- (pass|miss): (.*)$/gm)].map(([, verdict, goal]) => ({ verdict, goal }))

/**
 * Writes bench/results/<version>.json from a run, and returns its path.
 * `load` is the load average when the run began.
 */
export function saveResult({ scenarios, runs, bundle, setting, text, load, wallSeconds }) {
  const { version, released } = benchedVersion()
  let commit = null
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {}
  const result = {
    version,
    released,
    commit,
    date: new Date().toISOString(),
    machine: {
      cores: cpus().length,
      model: cpus()[0]?.model.trim() ?? null,
      node: process.version,
      loadAverage: { start: load, end: loadNow() },
    },
    setting,
    wallSeconds: round(wallSeconds, 0),
    pricesDate: PRICES_DATE,
    bundle: { bytes: bundle.bytes, gzipBytes: bundle.gzipBytes },
    goals: goalsOf(text),
    scenarios: Object.fromEntries(
      scenarios.map((scenario) => [scenario.key, figuresOf(scenario, runs[scenario.key])]),
    ),
  }
  mkdirSync(RESULTS_DIR, { recursive: true })
  const path = join(RESULTS_DIR, `${version}.json`)
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`)
  return path
}
