// The READMEs, the front door: short, the pitch, the two commands, the
// walkthrough and a map of the docs site; and the site's tables against the
// code they describe.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERRORS } from '../../src/errors'
import { headings, PAGES, section, tableRows } from './markdown'

const MAX_README_LINES = 250

describe.each([
  ['README.md', 'docs/en/'],
  ['README.zh-CN.md', 'docs/'],
])('%s, for a new user', (file, docs) => {
  const text = readFileSync(file, 'utf8')
  const first = text.split('\n## ')[0] ?? ''

  it('says in its first paragraph where sessions live: a Durable Object per user, KV its replica', () => {
    expect(first).toContain('Durable Object')
    expect(first).toContain('Workers KV')
    expect(first).not.toMatch(/sessions? (live|are kept|is kept) in (Workers )?KV/i)
  })

  it('says before its first section that it runs on Node with Redis, and logs in Douyin and QQ', () => {
    for (const word of ['Node', 'Redis', '`wxa-auth/node`', 'QQ']) expect(first).toContain(word)
    expect(first).toMatch(/Douyin|抖音/)
  })

  it('explains the EBADENGINE lines of npm install on Node 20, and the dev port flags', () => {
    const quickStart = text.slice(text.indexOf('\n## '), text.indexOf('\n### '))
    expect(quickStart).toContain('EBADENGINE')
    expect(quickStart).toContain('npm run dev -- --port')
    expect(quickStart).toContain('PORT=')
    expect(quickStart).toContain('--inspector-port')
  })

  it(`stays under ${MAX_README_LINES} lines`, () => {
    expect(text.split('\n').length).toBeLessThan(MAX_README_LINES)
  })

  it('maps every page of the docs site but its home (the pitch above), in its language', () => {
    const linked = [...text.matchAll(/\]\(([^)]+\.md)\)/g)].map(([, link]) => link)
    const pages = PAGES.filter((page) => page !== 'index.md').map((page) => `${docs}${page}`)
    expect(pages.filter((page) => !linked.includes(page))).toEqual([])
  })

  it('has the quick start and the walkthrough of the site, word for word', () => {
    // The site's page is the README's section with each heading one level up.
    const quickStart = section(text, headings(text)[1] ?? '').replace(/^#(#+ )/gm, '$1')
    expect(`${quickStart.trimEnd()}\n`).toBe(readFileSync(`${docs}guide/quick-start.md`, 'utf8'))
  })
})

describe('docs/en/reference/errors.md', () => {
  it('lists every error code with its status, in the order of the error table', () => {
    const errors = readFileSync('docs/en/reference/errors.md', 'utf8')
    const listed = tableRows(section(errors, '# Errors'), 'code').map(([code, status]) => [
      code?.replace(/`/g, ''),
      Number(status),
    ])
    expect(listed).toEqual(Object.entries(ERRORS).map(([code, { status }]) => [code, status]))
  })
})
