// The README's tables against the code they describe.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERRORS } from '../../src/errors'

const readme = readFileSync('README.md', 'utf8')

/** The rows of the markdown table whose header starts with `| first |`. */
export function tableRows(text: string, first: string): string[][] {
  const lines = text.split('\n')
  const start = lines.findIndex((line) => new RegExp(`^\\|\\s*${first}\\s*\\|`).test(line))
  if (start < 0) throw new Error(`no table starting with "${first}"`)
  const rows: string[][] = []
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
  }
  return rows
}

/** The text of the section under `heading` (a line as it stands), up to the next heading of its level. */
export function section(text: string, heading: string): string {
  const start = text.indexOf(`\n${heading}\n`)
  if (start < 0) throw new Error(`no section "${heading}"`)
  const level = heading.split(' ')[0]
  const next = text.indexOf(`\n${level} `, start + heading.length + 2)
  return text.slice(start, next < 0 ? undefined : next)
}

describe('README.md', () => {
  it('lists every error code with its status, in the order of the error table', () => {
    const listed = tableRows(section(readme, '## Errors'), 'code').map(([code, status]) => [
      code?.replace(/`/g, ''),
      Number(status),
    ])
    expect(listed).toEqual(Object.entries(ERRORS).map(([code, { status }]) => [code, status]))
  })
})
