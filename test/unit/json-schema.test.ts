// The document's JSON Schemas come from a small converter of our own; the
// library it replaces in the bundle (a dev dependency now) is the reference.
import { toJsonSchema as reference } from '@valibot/to-json-schema'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { toJsonSchema } from '../../src/openapi/json-schema'
import * as wechatSchemas from '../../src/platforms/wechat/routes'
import * as schemas from '../../src/routes/schemas'

const withoutDraft = (schema: v.GenericSchema) => {
  const { $schema: _draft, ...rest } = reference(schema) as Record<string, unknown>
  return rest
}

const isSchema = (value: unknown): value is v.GenericSchema =>
  typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'schema'

describe('toJsonSchema', () => {
  const routeSchemas = Object.entries({ ...schemas, ...wechatSchemas }).filter(([, value]) =>
    isSchema(value),
  )

  it('finds the routes’ schemas', () => {
    expect(routeSchemas.length).toBeGreaterThan(10)
  })

  it.each(routeSchemas)('%s: the same as @valibot/to-json-schema', (_name, schema) => {
    expect(toJsonSchema(schema as v.GenericSchema)).toEqual(withoutDraft(schema as v.GenericSchema))
  })

  it('covers every kind it claims, the same as the reference', () => {
    const all = v.object({
      a: v.pipe(v.string(), v.minLength(1), v.maxLength(5), v.description('x')),
      b: v.optional(v.nullable(v.number())),
      c: v.literal('x'),
      d: v.picklist(['a', 'b']),
      e: v.looseObject({ f: v.array(v.boolean()) }),
      g: v.strictObject({}),
      h: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(9)),
      i: v.pipe(v.string(), v.isoTimestamp()),
      j: v.pipe(v.string(), v.regex(/^a+$/)),
      k: v.optional(v.string(), 'default'),
    })
    expect(toJsonSchema(all)).toEqual(withoutDraft(all))
  })

  it('throws on a kind it does not know, instead of documenting it wrong', () => {
    expect(() => toJsonSchema(v.date())).toThrow(/no JSON Schema for the valibot schema date/)
    expect(() => toJsonSchema(v.pipe(v.string(), v.email()))).toThrow(/action email/)
  })
})
