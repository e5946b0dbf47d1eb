import type { Hono } from 'hono'
import type * as v from 'valibot'
import { ERROR_ALIASES, ERRORS } from '../errors'
import { BODY, errorResponses, type RouteSpec, SPEC } from './describe'
import { toJsonSchema } from './json-schema'

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERRORS) },
        message: { type: 'string', description: 'For people; may change. Branch on `code`.' },
        alias: {
          type: 'string',
          enum: Object.keys(ERROR_ALIASES),
          description: 'The code’s 0.2 name, when 0.3 renamed it; until 0.4.',
        },
        until: {
          type: 'integer',
          description:
            'USER_BANNED: unix seconds when the ban lifts itself (absent: until lifted).',
        },
      },
    },
  },
}

/** A valibot schema as JSON Schema (no draft marker: OpenAPI 3.1 sets the dialect). */
const jsonSchema = (schema: v.GenericSchema): Record<string, unknown> => toJsonSchema(schema)

type Marked = { [SPEC]?: RouteSpec; [BODY]?: v.GenericSchema; __COMPOSED_HANDLER?: Marked }

const operationId = (method: string, path: string) =>
  `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase())}`

/**
 * The OpenAPI 3.1 document of every route of `app` declared with
 * `describe()`: its body schema from its `json()` validator, its answer and
 * its error codes. One definition per route; nothing is written twice.
 * @see https://spec.openapis.org/oas/v3.1.0
 */
export function openApiDocument(
  // biome-ignore lint/suspicious/noExplicitAny: any app's routes can be documented
  app: Hono<any, any, any>,
  info: { title: string; version: string },
) {
  const found = new Map<
    string,
    { method: string; path: string; spec?: RouteSpec; body?: v.GenericSchema }
  >()
  for (const route of app.routes) {
    // A sub-app mounted with its own error handler wraps its handlers; Hono keeps the original.
    const handler = route.handler as unknown as Marked
    const marks = handler[SPEC] || handler[BODY] ? handler : (handler.__COMPOSED_HANDLER ?? handler)
    if (!marks[SPEC] && !marks[BODY]) continue
    const method = route.method.toLowerCase()
    const path = route.path.replace(/:(\w+)/g, '{$1}')
    const entry = found.get(`${method} ${path}`) ?? { method, path }
    found.set(`${method} ${path}`, {
      ...entry,
      ...(marks[SPEC] ? { spec: marks[SPEC] } : {}),
      ...(marks[BODY] ? { body: marks[BODY] } : {}),
    })
  }
  const paths: Record<string, Record<string, unknown>> = {}
  for (const { method, path, spec, body } of found.values()) {
    if (!spec) continue
    paths[path] ??= {}
    ;(paths[path] as Record<string, unknown>)[method] = {
      operationId: operationId(method, path),
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [spec.tag],
      security: spec.auth === 'admin' ? [{ adminKey: [] }] : spec.auth ? [{ token: [] }] : [],
      ...(spec.parameters
        ? {
            parameters: spec.parameters.map(({ in: where = 'path', required, schema, ...p }) => ({
              ...p,
              in: where,
              // A path parameter is always required; a query parameter says so.
              required: where === 'path' ? true : (required ?? false),
              schema: schema ?? { type: 'string' },
            })),
          }
        : {}),
      ...(body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(body) } },
            },
          }
        : spec.content
          ? {
              requestBody: {
                required: true,
                content: Object.fromEntries(
                  Object.entries(spec.content).map(([type, schema]) => [type, { schema }]),
                ),
              },
            }
          : {}),
      responses: {
        200: {
          description: 'OK',
          content: {
            [spec.responseType ?? 'application/json']: { schema: jsonSchema(spec.response) },
          },
        },
        ...errorResponses({ ...spec, body: body !== undefined }),
        ...Object.fromEntries(
          Object.entries(spec.answers ?? {}).map(([status, { description, response }]) => [
            status,
            { description, content: { 'application/json': { schema: jsonSchema(response) } } },
          ]),
        ),
      },
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'Mini program login and sessions (WeChat). Every error is {"error":{"code","message"}} (with "alias", the 0.2 name, for renamed codes until 0.4); branch on the code, not the message.',
    },
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: {
        token: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'The token from POST /auth/login, as `Authorization: JWT <token>` (or `Bearer <token>`).',
        },
        adminKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An operator key of ADMIN_KEYS (`kid:key`, the key part), as `Authorization: Bearer <key>`. Without ADMIN_KEYS the /admin tree answers 404.',
        },
      },
    },
  }
}

/** The OpenAPI 3.1 document {@link openApiDocument} makes. */
export type OpenApiDocument = ReturnType<typeof openApiDocument>
