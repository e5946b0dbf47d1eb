// The Chinese READMEs and docs pages against the English ones and the code:
// page by page the same outline, routes, variables, error codes, tables and
// code, so that a section added in English and left untranslated fails here.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERRORS } from '../../src/errors'
import {
  codeBlocks,
  codeSpans,
  headings,
  level,
  PAGES,
  pagesUnder,
  sectionAt,
  tables,
  withoutComments,
} from './markdown'

const read = (file: string) => readFileSync(file, 'utf8')

/** Each English text with its Chinese one: the READMEs, then the docs pages. */
const PAIRS: [string, string][] = [
  ['README.md', 'README.zh-CN.md'],
  ...PAGES.map((page): [string, string] => [`docs/en/${page}`, `docs/${page}`]),
]

/** The first table of a section. */
function firstTable(text: string): string[][] {
  const table = tables(text)[0]
  if (!table) throw new Error(`no table in ${text.split('\n')[1]}`)
  return table.rows
}

/** The code spans of a table cell, without backticks. */
const code = (cell = '') => codeSpans(cell).join(' ')

/** Backticked upper-case identifiers: environment variables, bindings, error codes. */
function identifiers(text: string): string[] {
  const words = codeSpans(text).flatMap(
    (span) => span.match(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g) ?? [],
  )
  return [...new Set(words)].sort()
}

const routes = (text: string) => firstTable(text).map(([route]) => code(route))
const variables = (text: string) => firstTable(text).map(([variable]) => code(variable))
const errorCodes = (text: string) =>
  firstTable(text).map(([name, status]) => [code(name), Number(status)])

describe('the docs site and the READMEs', () => {
  it('link the two READMEs to each other at their top (the site has its language switch)', () => {
    expect(read('README.zh-CN.md').split('\n').slice(0, 4).join('\n')).toContain('(README.md)')
    expect(read('README.md').split('\n').slice(0, 4).join('\n')).toContain('(README.zh-CN.md)')
  })

  it('leave the walkthrough marker to the English texts, whose block scripts/walkthrough.mjs runs', () => {
    expect(read('README.md')).toContain('<!-- walkthrough -->')
    expect(read('docs/en/guide/quick-start.md')).toContain('<!-- walkthrough -->')
    for (const [, zh] of PAIRS) expect(read(zh), zh).not.toContain('<!-- walkthrough -->')
  })

  it('has every English page in Chinese under the same path, and no other', () => {
    expect(PAGES.length).toBeGreaterThan(30)
    expect(pagesUnder('docs')).toEqual(PAGES)
  })

  it('has every page but the home in the sidebar (docs/.vitepress/config.mts)', () => {
    const config = read('docs/.vitepress/config.mts')
    const missing = PAGES.filter(
      (page) => page !== 'index.md' && !config.includes(`'${page.replace(/\.md$/, '')}'`),
    )
    expect(missing).toEqual([])
  })

  it('lists the same routes, in the same order', () => {
    const listed = routes(read('docs/en/reference/routes.md'))
    expect(listed.length).toBeGreaterThan(10)
    expect(listed.every((route) => /^(GET|POST|PUT|PATCH|DELETE) \//.test(route))).toBe(true)
    expect(routes(read('docs/reference/routes.md'))).toEqual(listed)
  })

  it('lists the same environment variables and bindings in the options table', () => {
    const listed = variables(read('docs/en/reference/options.md'))
    expect(listed).toContain('WECHAT_APP_ID')
    expect(listed).toContain('USER_SESSIONS')
    expect(variables(read('docs/reference/options.md'))).toEqual(listed)
  })

  it('lists every error code with its status, in the order of src/errors.ts', () => {
    const expected = Object.entries(ERRORS).map(([name, { status }]) => [name, status])
    expect(errorCodes(read('docs/en/reference/errors.md'))).toEqual(expected)
    expect(errorCodes(read('docs/reference/errors.md'))).toEqual(expected)
  })

  it('mentions every backticked variable and error code of the English pages, and no other', () => {
    const all = (files: string[]) => identifiers(files.map(read).join('\n\n'))
    expect(all(PAIRS.map(([en]) => en))).toContain('WECHAT_EVENT_AES_KEY')
    expect(all(PAIRS.map(([, zh]) => zh))).toEqual(all(PAIRS.map(([en]) => en)))
  })
})

describe.each(PAIRS)('%s and its translation', (enFile, zhFile) => {
  const en = read(enFile)
  const zh = read(zhFile)
  const enHeadings = headings(en)

  it('have the same outline: as many headings, at the same levels, with the same code', () => {
    const outline = (text: string) =>
      headings(text).map((heading) => `${level(heading)} ${codeSpans(heading).join(' ')}`)
    expect(outline(en).length).toBeGreaterThan(0)
    expect(outline(zh)).toEqual(outline(en))
  })

  it('mention the same backticked variables and error codes', () => {
    expect(identifiers(zh)).toEqual(identifiers(en))
  })

  it('have the same code in every section: the same code spans, the same tables', () => {
    enHeadings.forEach((heading, index) => {
      const [enText, zhText] = [sectionAt(en, index, true), sectionAt(zh, index, true)]
      const spans = (text: string) => [...new Set(codeSpans(text))].sort()
      expect(spans(zhText), heading).toEqual(spans(enText))
      const shape = (text: string) =>
        tables(text).map(({ header, rows }) => [
          header.length,
          ...rows.map((row) => `${row.length} ${code(row[0])}`),
        ])
      expect(shape(zhText), heading).toEqual(shape(enText))
    })
  })

  it('have the same code blocks, comments aside', () => {
    const blocks = (text: string) =>
      codeBlocks(text).map((block) => `${block.lang}\n${withoutComments(block)}`)
    expect(blocks(zh)).toEqual(blocks(en))
  })
})
