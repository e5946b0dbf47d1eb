// The versions side by side: a table made from every result file
// (bench/results/<version>.json, written by `npm run bench`), in the block
// between the markers of the docs' benchmark page, in both languages.
// `node bench/history.mjs` rewrites the blocks (the bench does it after each
// run); `--check` only says which page is not current (test/docs checks it).
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmt } from './drive.mjs'

export const PAGES = { zh: 'docs/more/benchmarks.md', en: 'docs/en/more/benchmarks.md' }
export const START = '<!-- bench-history: made by bench/history.mjs from bench/results/*.json -->'
export const END = '<!-- /bench-history -->'

const byVersion = (a, b) => {
  const [x, y] = [a, b].map((r) => r.version.split('.').map(Number))
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i]
  return 0
}

/** Every result file of `root`, oldest version first. */
export function readResults(root = '.') {
  const dir = join(root, 'bench/results')
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')))
    .sort(byVersion)
}

const dollars = (key) => (r) => {
  const d = r.scenarios?.[key]?.dollarsPerMillion
  return d ? `$${fmt(d.median, 2)} (${fmt(d.min, 2)}–${fmt(d.max, 2)})` : '–'
}
const field =
  (key, name, digits = 2) =>
  (r) =>
    fmt(r.scenarios?.[key]?.[name] ?? null, digits)
const cpu = (key) => (r) => fmt(r.scenarios?.[key]?.cpuUs?.median ?? null)

/** The rows: a label in each language and what a result shows there. */
const ROWS = [
  [{ en: 'date', zh: '日期' }, (r) => r.date.slice(0, 10)],
  [
    { en: 'machine', zh: '机器' },
    (r) => `${r.machine.cores} × ${r.machine.model}, Node ${r.machine.node}`,
  ],
  [
    { en: 'load average (1 min), start → end', zh: '负载均值（1 分钟），开始 → 结束' },
    (r) => `${fmt(r.machine.loadAverage.start[0], 2)} → ${fmt(r.machine.loadAverage.end[0], 2)}`,
  ],
  [
    { en: 'goals met', zh: '达成的目标' },
    (r) => `${r.goals.filter((g) => g.verdict === 'pass').length} / ${r.goals.length}`,
  ],
  [{ en: '$/M: GET /me, hot token', zh: '$/百万：GET /me，热 token' }, dollars('hot')],
  [{ en: '$/M: GET /me, cold token', zh: '$/百万：GET /me，冷 token' }, dollars('cold')],
  [{ en: '$/M: GET /me, strict mode', zh: '$/百万：GET /me，strict 模式' }, dollars('strict')],
  [{ en: '$/M: PATCH /me/session', zh: '$/百万：PATCH /me/session' }, dollars('write')],
  [{ en: '$/M: POST /auth/refresh', zh: '$/百万：POST /auth/refresh' }, dollars('refresh')],
  [
    { en: "$/M: login, a user's first (goal ≤ $10)", zh: '$/百万：登录，用户首次（目标 ≤ $10）' },
    dollars('first'),
  ],
  [
    {
      en: '$/M: login, returning, new session_key (goal ≤ $5)',
      zh: '$/百万：登录，再次登录，新 session_key（目标 ≤ $5）',
    },
    dollars('returning'),
  ],
  [
    {
      en: '$/M: login, returning, same session_key (goal ≤ $5)',
      zh: '$/百万：登录，再次登录，同一 session_key（目标 ≤ $5）',
    },
    dollars('same'),
  ],
  [
    { en: 'KV writes / rows written, returning login', zh: 'KV 写入 / 写入行数，再次登录' },
    (r) => `${field('returning', 'kvWrites')(r)} / ${field('returning', 'rowsWritten', 1)(r)}`,
  ],
  [
    { en: 'KV writes / rows written, first login', zh: 'KV 写入 / 写入行数，首次登录' },
    (r) => `${field('first', 'kvWrites')(r)} / ${field('first', 'rowsWritten', 1)(r)}`,
  ],
  [
    { en: 'CPU µs: GET /me, hot token (HTTP)', zh: 'CPU µs：GET /me，热 token（HTTP）' },
    cpu('hot'),
  ],
  [
    { en: 'CPU µs: login, returning (HTTP)', zh: 'CPU µs：登录，再次登录（HTTP）' },
    cpu('returning'),
  ],
  [
    { en: 'production bundle, gzip KiB', zh: '生产包，gzip KiB' },
    (r) => fmt(r.bundle.gzipBytes / 1024, 1),
  ],
]

const TEXT = {
  en: {
    head: 'figure',
    unreleased: 'unreleased',
    goals: (r) => `Goals of ${r.version}, as its run printed them:`,
  },
  zh: {
    head: '数字',
    unreleased: '未发布',
    goals: (r) => `${r.version} 的目标，按其运行打印的原文：`,
  },
}

/** The block of `lang` for `results`, markers included. */
export function historyBlock(results, lang) {
  const text = TEXT[lang]
  const title = (r) =>
    r.released ? r.version : `${r.version} (${text.unreleased}${r.commit ? `, ${r.commit}` : ''})`
  const row = (cells) => `| ${cells.join(' | ')} |`
  const lines = [
    START,
    '',
    row([text.head, ...results.map(title)]),
    row(['---', ...results.map(() => '---:')]),
    ...ROWS.map(([label, show]) => row([label[lang], ...results.map(show)])),
    '',
  ]
  for (const r of results) {
    lines.push(text.goals(r), '', ...r.goals.map((g) => `- ${g.verdict}: ${g.goal}`), '')
  }
  lines.push(END)
  return lines.join('\n')
}

/** `page` with its block made from `results`; the page as it is when it has no markers. */
export function withHistory(page, results, lang) {
  const from = page.indexOf(START)
  const to = page.indexOf(END)
  if (from < 0 || to < from) return page
  return page.slice(0, from) + historyBlock(results, lang) + page.slice(to + END.length)
}

/** Markdown with its tables' padding taken out: what biome's formatting of a table changes. */
const unpadded = (text) =>
  text
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split('|')
            .map((cell) => cell.trim().replace(/^(:?)-+(:?)$/, '$1-$2'))
            .join('|')
        : line,
    )
    .join('\n')

/** The pages whose block is not what the result files make (or that have none). */
export function stalePages(root = '.') {
  const results = readResults(root)
  return Object.entries(PAGES).flatMap(([lang, path]) => {
    const page = readFileSync(join(root, path), 'utf8')
    const made = withHistory(page, results, lang)
    return page.includes(START) && unpadded(made) === unpadded(page) ? [] : [path]
  })
}

/** Rewrites both pages' blocks from the result files, formatted as biome formats the docs. */
export function writeHistory(root = '.') {
  const results = readResults(root)
  const paths = Object.entries(PAGES).map(([lang, path]) => {
    const page = readFileSync(join(root, path), 'utf8')
    writeFileSync(join(root, path), withHistory(page, results, lang))
    return join(root, path)
  })
  execFileSync('npx', ['biome', 'format', '--write', ...paths], { stdio: 'ignore' })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const stale = stalePages()
    if (stale.length) {
      console.error(
        `not made from bench/results/*.json: ${stale.join(', ')} (node bench/history.mjs)`,
      )
      process.exit(1)
    }
  } else {
    writeHistory()
  }
}
