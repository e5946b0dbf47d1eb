// The Chinese README against the English one and the code: the same outline,
// routes, variables, error codes, tables and code, so that a section added to
// README.md and left untranslated fails here.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERRORS } from '../../src/errors'
import {
  codeBlocks,
  codeSpans,
  headings,
  level,
  section,
  sectionAt,
  tables,
  withoutComments,
} from './markdown'

const en = readFileSync('README.md', 'utf8')
const zh = readFileSync('README.zh-CN.md', 'utf8')
const enHeadings = headings(en)

/** The section of README.zh-CN.md that stands where `heading` stands in README.md. */
function zhSection(heading: string): string {
  const index = enHeadings.indexOf(heading)
  if (index < 0) throw new Error(`README.md has no heading "${heading}"`)
  return sectionAt(zh, index)
}

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

describe('README.zh-CN.md', () => {
  it('links to README.md at its top, and README.md links to it at its top', () => {
    expect(zh.split('\n').slice(0, 4).join('\n')).toContain('(README.md)')
    expect(en.split('\n').slice(0, 4).join('\n')).toContain('(README.zh-CN.md)')
  })

  it('has the outline of README.md: as many headings, at the same levels, with the same code', () => {
    const outline = (text: string) =>
      headings(text).map((heading) => `${level(heading)} ${codeSpans(heading).join(' ')}`)
    expect(outline(zh)).toEqual(outline(en))
  })

  it('lists the same routes, in the same order', () => {
    const listed = routes(section(en, '## Routes'))
    expect(listed.length).toBeGreaterThan(10)
    expect(listed.every((route) => /^(GET|POST|PUT|PATCH|DELETE) \//.test(route))).toBe(true)
    expect(routes(zhSection('## Routes'))).toEqual(listed)
  })

  it('lists the same environment variables and bindings in the options table', () => {
    const listed = variables(section(en, '### Options'))
    expect(listed).toContain('WECHAT_APP_ID')
    expect(listed).toContain('USER_SESSIONS')
    expect(variables(zhSection('### Options'))).toEqual(listed)
  })

  it('lists every error code with its status, in the order of src/errors.ts', () => {
    const expected = Object.entries(ERRORS).map(([name, { status }]) => [name, status])
    expect(errorCodes(section(en, '## Errors'))).toEqual(expected)
    expect(errorCodes(zhSection('## Errors'))).toEqual(expected)
  })

  it('mentions every backticked variable and error code that README.md mentions, and no other', () => {
    expect(identifiers(en)).toContain('WECHAT_EVENT_AES_KEY')
    expect(identifiers(zh)).toEqual(identifiers(en))
  })

  it('has the code of README.md in every section: the same code spans, the same tables', () => {
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

  it('has the code blocks of README.md, comments aside', () => {
    const blocks = (text: string) =>
      codeBlocks(text).map((block) => `${block.lang}\n${withoutComments(block)}`)
    expect(blocks(zh)).toEqual(blocks(en))
  })

  it('leaves the walkthrough marker to README.md, the one scripts/walkthrough.mjs runs', () => {
    expect(en).toContain('<!-- walkthrough -->')
    expect(zh).not.toContain('<!-- walkthrough -->')
  })
})
