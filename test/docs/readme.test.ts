// The README's tables against the code they describe.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERRORS } from '../../src/errors'
import { section, tableRows } from './markdown'

const readme = readFileSync('README.md', 'utf8')

describe('README.md', () => {
  it('lists every error code with its status, in the order of the error table', () => {
    const listed = tableRows(section(readme, '## Errors'), 'code').map(([code, status]) => [
      code?.replace(/`/g, ''),
      Number(status),
    ])
    expect(listed).toEqual(Object.entries(ERRORS).map(([code, { status }]) => [code, status]))
  })
})
