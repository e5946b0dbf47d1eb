// The operators' page (docs/operations/admin.md, docs/en/operations/admin.md)
// against the code it describes: the console's headers, the audit types,
// the retention.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CONSOLE_HEADERS } from '../../src/admin/console'
import { DEFAULT_AUDIT_RETENTION_DAYS, MIN_AUDIT_RETENTION_DAYS } from '../../src/config'
import { AUDIT_TYPES } from '../../src/operators/ports'
import { codeSpans, headings, section, tableRows } from './markdown'

const code = (cell = '') => codeSpans(cell).join(' ')

describe.each(['docs/en/operations/admin.md', 'docs/operations/admin.md'])('%s', (file) => {
  const text = readFileSync(file, 'utf8')

  it('lists the headers the console answers with, as they are', () => {
    const listed = tableRows(text, 'header').map(([name, value]) => [code(name), code(value)])
    expect(listed.length).toBeGreaterThan(3)
    for (const [name, value] of listed) expect(CONSOLE_HEADERS[name as string], name).toBe(value)
  })

  it('lists every audit type, in the order of the code', () => {
    expect(tableRows(text, 'type').map(([type]) => code(type))).toEqual([...AUDIT_TYPES])
  })

  it('says the retention the code has: its default, its floor, its variable', () => {
    const retention = section(
      text,
      headings(text).find((h) => /^### (Retention|保留期限)$/.test(h)) ?? '',
    )
    expect(retention).toContain('`AUDIT_RETENTION_DAYS`')
    expect(retention).toContain(`${DEFAULT_AUDIT_RETENTION_DAYS} `)
    expect(retention).toMatch(new RegExp(`(below|低于) ${MIN_AUDIT_RETENTION_DAYS}`))
  })
})
