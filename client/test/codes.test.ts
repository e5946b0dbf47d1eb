import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { codesModule } from '../../scripts/client-codes.mjs'
import { ERROR_STATUS } from '../../src/errors'
import { SERVER_CODES } from '../src/codes'

const CLIENT_SRC = join(import.meta.dirname, '../src')

/** Each client/src file's imports of other client/src files, type-only ones included. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of readdirSync(CLIENT_SRC)) {
    const text = readFileSync(join(CLIENT_SRC, file), 'utf8')
    // Statements only (`import`, `export`, or the `} from` closing one), not comments.
    const from = [...text.matchAll(/^(?:import|export|\}).*\bfrom '\.\/([\w-]+)'/gm)]
    graph.set(file.replace(/\.ts$/, ''), [...new Set(from.map(([, name]) => name as string))])
  }
  return graph
}

/** The first import cycle found, as `a -> b -> a`, or undefined. */
function cycleIn(graph: Map<string, string[]>): string | undefined {
  const done = new Set<string>()
  const visit = (node: string, path: string[]): string | undefined => {
    if (path.includes(node)) return [...path.slice(path.indexOf(node)), node].join(' -> ')
    if (done.has(node)) return undefined
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next, [...path, node])
      if (cycle) return cycle
    }
    done.add(node)
    return undefined
  }
  for (const node of graph.keys()) {
    const cycle = visit(node, [])
    if (cycle) return cycle
  }
  return undefined
}

describe('the client stands alone', () => {
  it("knows exactly the server's error codes, in its order", () => {
    expect([...SERVER_CODES]).toEqual(Object.keys(ERROR_STATUS))
  })

  it('has codes.ts as the generator writes it (run `node scripts/client-codes.mjs`)', () => {
    const written = readFileSync(join(CLIENT_SRC, 'codes.ts'), 'utf8')
    expect(written).toBe(codesModule(Object.keys(ERROR_STATUS)))
    expect(codesModule(['A'])).not.toBe(written)
  })

  it('imports nothing outside client/src, and no package', () => {
    const imports = readdirSync(CLIENT_SRC).flatMap((file) =>
      // Statements only (`import`, `export`, or the `} from` closing one), not comments.
      [
        ...readFileSync(join(CLIENT_SRC, file), 'utf8').matchAll(
          /^(?:import|export|\}).*\bfrom '([^']+)'/gm,
        ),
      ].map(([, from]) => `${file}: ${from}`),
    )
    const dynamic = readdirSync(CLIENT_SRC).filter((file) =>
      /\b(?:import|require)\(/.test(readFileSync(join(CLIENT_SRC, file), 'utf8')),
    )
    expect(dynamic).toEqual([])
    expect(imports.length).toBeGreaterThan(0)
    expect(imports.filter((line) => !/: \.\/[\w-]+$/.test(line))).toEqual([])
  })

  it('has no import cycle among its files, type-only imports included', () => {
    const graph = importGraph()
    expect(graph.get('client')).toContain('session')
    expect(graph.get('session')).toContain('options')
    expect(cycleIn(graph)).toBeUndefined()
    // The check finds one when there is one.
    expect(cycleIn(new Map([...graph, ['options', ['client']]]))).toMatch(
      /^(client|options) -> (?:client|options) -> \1$/,
    )
  })
})
