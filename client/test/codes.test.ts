import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { codesModule } from '../../scripts/client-codes.mjs'
import { ERROR_STATUS } from '../../src/errors'
import { SERVER_CODES } from '../src/codes'

const CLIENT_SRC = join(import.meta.dirname, '../src')

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
})
