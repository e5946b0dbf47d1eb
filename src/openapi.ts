import { ERROR_STATUS, type WxaErrorCode } from './errors'
import type { JsonSchema } from './schema'

/** JSON Schema for documenting responses: wider than what request bodies use. */
export type DocSchema = JsonSchema | Record<string, unknown>

/** One route as the OpenAPI document shows it. */
export interface RouteDoc {
  method: 'get' | 'post' | 'patch' | 'delete'
  /** OpenAPI path, `{name}` for parameters. */
  path: string
  summary: string
  description?: string
  tag: string
  /** Whether the route needs a token. */
  auth: boolean
  /** The schema that validates the request body (the same object the route uses). */
  body?: JsonSchema
  /** A body that is not this API's JSON (WeChat's pushes): a schema per media type. */
  content?: Record<string, DocSchema>
  /** Path parameters, and query parameters (`in: 'query'`, optional unless `required`). */
  parameters?: {
    name: string
    description: string
    schema: DocSchema
    in?: 'path' | 'query'
    required?: boolean
  }[]
  /** The 200 response. */
  response: DocSchema
  /** The media type of the 200 response. @default application/json */
  responseType?: string
  /** Every error code the route can answer with, beyond those all routes share. */
  errors: readonly WxaErrorCode[]
}

/** Errors every route can answer with. */
const ALWAYS: readonly WxaErrorCode[] = ['CONFIG_INVALID', 'INTERNAL_ERROR']
/** Errors of every route that needs a token. */
export const AUTH_ERRORS: readonly WxaErrorCode[] = [
  'AUTH_REQUIRED',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'TOKEN_REVOKED',
  'SESSION_EXPIRED',
  'SESSION_TOO_LARGE',
  'STORAGE_UNAVAILABLE',
]
/** Errors of every route with a JSON body. */
export const BODY_ERRORS: readonly WxaErrorCode[] = [
  'INVALID_JSON',
  'INVALID_REQUEST',
  'PAYLOAD_TOO_LARGE',
]

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_STATUS) },
        message: { type: 'string', description: 'For people; may change. Branch on `code`.' },
      },
    },
  },
}

/** The error codes of a route, all of them, in a stable order. */
export function routeErrors(route: RouteDoc): WxaErrorCode[] {
  const all = new Set([...(route.auth ? AUTH_ERRORS : []), ...route.errors, ...ALWAYS])
  return (Object.keys(ERROR_STATUS) as WxaErrorCode[]).filter((code) => all.has(code))
}

/**
 * The OpenAPI 3.1 document of `routes`.
 * @see https://spec.openapis.org/oas/v3.1.0
 */
export function openApiDocument(
  routes: readonly RouteDoc[],
  info: { title: string; version: string },
) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const byStatus = new Map<number, WxaErrorCode[]>()
    for (const code of routeErrors(route)) {
      const status = ERROR_STATUS[code]
      byStatus.set(status, [...(byStatus.get(status) ?? []), code])
    }
    const responses: Record<string, unknown> = {
      200: {
        description: 'OK',
        content: { [route.responseType ?? 'application/json']: { schema: route.response } },
      },
    }
    for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
      responses[status] = {
        description: codes.join(', '),
        content: {
          'application/json': {
            schema: {
              allOf: [
                { $ref: '#/components/schemas/Error' },
                {
                  properties: {
                    error: { properties: { code: { enum: codes } } },
                  },
                },
              ],
            },
          },
        },
      }
    }
    paths[route.path] ??= {}
    ;(paths[route.path] as Record<string, unknown>)[route.method] = {
      operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      security: route.auth ? [{ token: [] }] : [],
      ...(route.parameters
        ? {
            parameters: route.parameters.map(({ in: where = 'path', required, ...p }) => ({
              ...p,
              in: where,
              required: where === 'path' || required === true,
            })),
          }
        : {}),
      ...(route.body || route.content
        ? {
            requestBody: {
              required: true,
              content: {
                ...(route.body ? { 'application/json': { schema: route.body } } : {}),
                ...Object.fromEntries(
                  Object.entries(route.content ?? {}).map(([type, schema]) => [type, { schema }]),
                ),
              },
            },
          }
        : {}),
      responses,
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'WeChat Mini Program login and sessions on Cloudflare Workers. Every error is {"error":{"code","message"}}; branch on the code, not the message.',
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
      },
    },
  }
}
