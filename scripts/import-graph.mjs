// The import graph of src/ (type-only imports included): `node scripts/import-graph.mjs`
// prints each file's imports, the cycles, the files each entry loads that import
// `cloudflare:*`, and the floors (a file's floor is one above its highest import);
// then its four rules, and exits 1 when one is broken: no cycle, no arrow from
// platforms/ up into flows/ or routes/, no file over 400 lines, at most 40
// runtime exports from the main entry. test/docs/shape.test.ts checks the same.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'

const IMPORT =
  /^(?:import|export)[^'"]*?\bfrom\s+'([^']+)'|^\}\s+from\s+'([^']+)'|^import\s+'([^']+)'/gm

/** @param {string} dir @returns {string[]} */
function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return files(path)
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : []
  })
}

/**
 * @param {string} root e.g. 'src'
 * @returns {Map<string, string[]>} file -> imported files (relative to the repo) or bare specifiers
 */
export function importGraph(root = 'src') {
  const graph = new Map()
  for (const file of files(root)) {
    const text = readFileSync(file, 'utf8')
    const targets = []
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? match[3]
      if (!spec) continue
      if (spec.startsWith('.')) {
        let target = normalize(join(dirname(file), spec))
        if (target.endsWith('.json')) continue
        if (!target.endsWith('.ts')) target = `${target}.ts`
        targets.push(target)
      } else targets.push(spec)
    }
    graph.set(file, targets)
  }
  return graph
}

/** @param {Map<string, string[]>} graph @returns {string[]} every cycle found, `a -> b -> a` */
export function cycles(graph) {
  /** @type {string[]} */
  const found = []
  const done = new Set()
  /** @param {string} node @param {string[]} path @returns {void} */
  const visit = (node, path) => {
    if (path.includes(node)) {
      found.push([...path.slice(path.indexOf(node)), node].join(' -> '))
      return
    }
    if (done.has(node) || !graph.has(node)) return
    for (const next of graph.get(node) ?? []) visit(next, [...path, node])
    done.add(node)
  }
  for (const node of graph.keys()) visit(node, [])
  return found
}

/** @param {Map<string, string[]>} graph @param {string} entry @returns {Set<string>} what the entry loads */
export function closure(graph, entry) {
  /** @type {Set<string>} */
  const seen = new Set()
  /** @param {string} node */
  const walk = (node) => {
    if (seen.has(node)) return
    seen.add(node)
    for (const next of graph.get(node) ?? []) walk(next)
  }
  walk(entry)
  return seen
}

/** @param {Map<string, string[]>} graph @returns {Map<string, number>} the floor of each file */
export function floors(graph) {
  /** @type {Map<string, number>} */
  const floor = new Map()
  /** @param {string} node @param {Set<string>} [stack] @returns {number} */
  const of = (node, stack = new Set()) => {
    const known = floor.get(node)
    if (known !== undefined) return known
    if (!graph.has(node) || stack.has(node)) return -1
    stack.add(node)
    /** @type {number[]} */
    const below = (graph.get(node) ?? []).map((/** @type {string} */ next) => of(next, stack))
    stack.delete(node)
    const value = Math.max(-1, ...below) + 1
    floor.set(node, value)
    return value
  }
  for (const node of graph.keys()) of(node)
  return floor
}

export const MAX_LINES = 400
export const MAX_RUNTIME_EXPORTS = 40

/** @param {Map<string, string[]>} graph @returns {string[]} imports of flows/ or routes/ by platforms/ */
export function upward(graph) {
  return [...graph].flatMap(([file, targets]) =>
    file.startsWith('src/platforms/')
      ? targets
          .filter((t) => t.startsWith('src/flows/') || t.startsWith('src/routes/'))
          .map((t) => `${file} -> ${t}`)
      : [],
  )
}

/** @param {string} file an entry @returns {string[]} the values (not types) it exports */
export function runtimeExports(file) {
  const names = []
  for (const [, kind, list] of readFileSync(file, 'utf8').matchAll(
    /^export (type )?\{([^}]*)\}/gm,
  )) {
    if (kind) continue
    for (const name of list.split(',').map((n) => n.trim()))
      if (name && !name.startsWith('type ')) names.push(name.split(/\s+as\s+/).pop())
  }
  return names
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const graph = importGraph('src')
  /** @type {Map<number, string[]>} */
  const byFloor = new Map()
  for (const [file, floor] of floors(graph))
    byFloor.set(floor, [...(byFloor.get(floor) ?? []), file])
  for (const floor of [...byFloor.keys()].sort((a, b) => a - b)) {
    const names = (byFloor.get(floor) ?? []).map((f) => relative('src', f)).sort()
    console.log(`floor ${floor}: ${names.join(', ')}`)
  }
  const found = cycles(graph)
  console.log(`cycles: ${found.length ? found.join('\n  ') : 'none'}`)
  for (const entry of ['src/index.ts', 'src/platforms/wechat/index.ts']) {
    const loaded = [...closure(graph, entry)].filter((f) => f.startsWith('cloudflare:'))
    console.log(`${entry} loads cloudflare:*: ${loaded.length ? loaded.join(', ') : 'no'}`)
  }
  const up = upward(graph)
  console.log(`platforms/ -> flows/ or routes/: ${up.length ? up.join('\n  ') : 'none'}`)
  const long = [...graph.keys()]
    .map((file) => [file, readFileSync(file, 'utf8').split('\n').length])
    .filter(([, lines]) => Number(lines) > MAX_LINES)
  console.log(
    `files over ${MAX_LINES} lines: ${long.length ? long.map(([f, n]) => `${f} (${n})`).join(', ') : 'none'}`,
  )
  const exported = runtimeExports('src/index.ts')
  console.log(
    `runtime exports of src/index.ts: ${exported.length} (at most ${MAX_RUNTIME_EXPORTS})`,
  )
  if (found.length || up.length || long.length || exported.length > MAX_RUNTIME_EXPORTS)
    process.exit(1)
}
