import { toJsonSchema } from '@valibot/to-json-schema'
import { describe, expect, it } from 'vitest'
import { ERROR_STATUS } from '../src/errors'
import { LoginBody } from '../src/routes/schemas'
import { call, testApp } from './helpers'

const operations = (doc: { paths: Record<string, Record<string, unknown>> }) =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
  )

describe('/openapi.json', () => {
  it('documents every route of the app, and nothing else', async () => {
    const served = testApp()
      .routes.filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
      // Pages, not API: the document's own, and the operators' console with its script and style.
      .filter(
        (r) =>
          !['GET /openapi.json', 'GET /docs'].includes(r) &&
          !/^GET \/admin(\/console\.\w+)?$/.test(r),
      )
    const { body: doc } = await call('GET', '/openapi.json')
    expect(doc.openapi).toBe('3.1.0')
    expect(operations(doc).sort()).toEqual([...new Set(served)].sort())
  })

  it('uses the schemas that validate the requests', async () => {
    const { body: doc } = await call('GET', '/openapi.json')
    const login = doc.paths['/auth/login'].post
    const { $schema: _draft, ...expected } = toJsonSchema(LoginBody)
    expect(login.requestBody.content['application/json'].schema).toEqual(expected)
    expect(login.requestBody.content['application/json'].schema.properties.code.maxLength).toBe(128)
  })

  it('names every error code of the project somewhere, with its status', async () => {
    const { body: doc } = await call('GET', '/openapi.json')
    const seen = new Map<string, string>()
    for (const ops of Object.values<Record<string, any>>(doc.paths)) {
      for (const op of Object.values<any>(ops)) {
        for (const [status, response] of Object.entries<any>(op.responses)) {
          if (status === '200') continue
          for (const code of response.description.split(', ')) seen.set(code, status)
        }
      }
    }
    const unreachable = new Set(['NOT_FOUND']) // any unknown path, not a route
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      if (unreachable.has(code)) continue
      expect(seen.get(code), code).toBe(String(status))
    }
  })
})

describe('/docs', () => {
  it('is a page naming every route and error code', async () => {
    const res = await call('GET', '/docs')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const { body: doc } = await call('GET', '/openapi.json')
    for (const operation of operations(doc)) expect(res.text).toContain(`<code>${operation}</code>`)
    expect(res.text).toContain('CODE_USED')
  })
})
