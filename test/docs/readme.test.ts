// The README's tables against the code they describe.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERRORS } from '../../src/errors'
import { section, tableRows } from './markdown'

const readme = readFileSync('README.md', 'utf8')

describe.each(['README.md', 'README.zh-CN.md'])('%s, for a new user', (file) => {
  const text = readFileSync(file, 'utf8')
  const first = text.split('\n## ')[0] ?? ''

  it('says in its first paragraph where sessions live: a Durable Object per user, KV its replica', () => {
    expect(first).toContain('Durable Object')
    expect(first).toContain('Workers KV')
    expect(first).not.toMatch(/sessions? (live|are kept|is kept) in (Workers )?KV/i)
  })

  it('explains the EBADENGINE lines of npm install on Node 20, and the dev port flags', () => {
    const quickStart = text.slice(text.indexOf('\n## '), text.indexOf('\n### '))
    expect(quickStart).toContain('EBADENGINE')
    expect(quickStart).toContain('npm run dev -- --port')
    expect(quickStart).toContain('PORT=')
    expect(quickStart).toContain('--inspector-port')
  })
})

describe('README.md', () => {
  it('lists every error code with its status, in the order of the error table', () => {
    const listed = tableRows(section(readme, '## Errors'), 'code').map(([code, status]) => [
      code?.replace(/`/g, ''),
      Number(status),
    ])
    expect(listed).toEqual(Object.entries(ERRORS).map(([code, { status }]) => [code, status]))
  })
})
