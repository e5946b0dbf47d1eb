// The shape of the code: floors without cycles, a runtime-neutral main entry,
// a small public surface, files that stay readable.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  closure,
  cycles,
  importGraph,
  MAX_LINES,
  MAX_RUNTIME_EXPORTS,
  runtimeExports,
  upward,
} from '../../scripts/import-graph.mjs'

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : []
  })
}

describe('the code', () => {
  it('has no import cycle in src/ or client/src/, type-only imports included', () => {
    expect(cycles(importGraph('src'))).toEqual([])
    expect(cycles(importGraph('client/src'))).toEqual([])
  })

  it('finds a cycle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['a.ts']],
    ])
    expect(cycles(graph)).toEqual(['a.ts -> b.ts -> a.ts'])
  })

  it('has no arrow from platforms/ up into flows/ or routes/ (and would see one)', () => {
    expect(upward(importGraph('src'))).toEqual([])
    const graph = new Map([['src/platforms/x/routes.ts', ['src/flows/events.ts', 'hono']]])
    expect(upward(graph)).toEqual(['src/platforms/x/routes.ts -> src/flows/events.ts'])
  })

  it('keeps the main entry and the WeChat toolkit free of cloudflare:*', () => {
    const graph = importGraph('src')
    for (const entry of ['src/index.ts', 'src/platforms/wechat/index.ts']) {
      const loaded = [...closure(graph, entry)]
      expect(
        loaded.filter((file) => file.startsWith('cloudflare:')),
        entry,
      ).toEqual([])
      expect(
        loaded.some((file) => file.startsWith('src/emulator/')),
        entry,
      ).toBe(false)
    }
    // The Workers adapters do import it: the check sees imports.
    expect([...closure(graph, 'src/runtime/cloudflare/index.ts')]).toContain('cloudflare:workers')
  })

  it('builds dist/index.js and its chunks without cloudflare:* (after npm run build:lib)', () => {
    if (!existsSync('dist/index.js')) return
    const seen = new Set<string>()
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from\s*["']([^"']+)["']/g)) {
        expect(spec, file).not.toMatch(/^cloudflare:/)
        if (spec?.startsWith('.')) visit(join(file, '..', spec))
      }
    }
    visit('dist/index.js')
    expect(seen.size).toBeGreaterThan(1)
  })

  it(`exports at most ${MAX_RUNTIME_EXPORTS} runtime values from the main entry, and loads in Node`, async () => {
    const main = await import('../../src/index')
    const names = Object.keys(main)
    expect(names.length).toBeLessThanOrEqual(MAX_RUNTIME_EXPORTS)
    // What `node scripts/import-graph.mjs` counts from the source is what loads.
    expect(runtimeExports('src/index.ts').sort()).toEqual([...names].sort())
    expect(names).toContain('wxaAuth')
    // What stopped being public API in 0.3.
    for (const gone of ['sealedKv', 'createCipher', 'sessionRules', 'meRoutes', 'devRoutes']) {
      expect(names).not.toContain(gone)
    }
  })

  it(`has no file over ${MAX_LINES} lines in src/ or client/src/`, () => {
    const long = [...tsFiles('src'), ...tsFiles('client/src')]
      .map((file) => [file, readFileSync(file, 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > MAX_LINES)
    expect(long).toEqual([])
  })
})
