import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { D1_SCHEMA } from '../../src/runtime/cloudflare/d1'

/** Statements of a SQL text, comments dropped and white space folded. */
const statements = (sql: string) =>
  sql
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean)

describe('the D1 migration', () => {
  it('makes exactly the tables and indexes wxa-auth makes on first use (D1_SCHEMA)', () => {
    const file = readFileSync('migrations/0001_operators.sql', 'utf8')
    expect(statements(file)).toEqual(D1_SCHEMA.flatMap(statements))
  })
})
