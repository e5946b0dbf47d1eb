import { sValidator } from '@hono/standard-validator'
import type { Env, MiddlewareHandler } from 'hono'
import type * as v from 'valibot'
import { ERROR_STATUS, WxaAuthError, type WxaErrorCode } from '../errors'

/** Errors every route can answer with. */
const ALWAYS: readonly WxaErrorCode[] = ['CONFIG_INVALID', 'INTERNAL_ERROR']
/** Errors of every route that needs a token (and may write the session). */
const AUTH_ERRORS: readonly WxaErrorCode[] = [
  'AUTH_REQUIRED',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'SESSION_EXPIRED',
  'SESSION_TOO_LARGE',
  'STORAGE_UNAVAILABLE',
  'STORAGE_OUTCOME_UNKNOWN',
]
/** Errors of every operator route (`/admin/api`): no ADMIN_KEYS, a wrong key, too many tries. */
const ADMIN_ERRORS: readonly WxaErrorCode[] = [
  'NOT_FOUND',
  'ADMIN_KEY_INVALID',
  'RATE_LIMITED',
  'STORAGE_UNAVAILABLE',
]
/** Errors of every route with a JSON body. */
const BODY_ERRORS: readonly WxaErrorCode[] = [
  'INVALID_JSON',
  'INVALID_REQUEST',
  'PAYLOAD_TOO_LARGE',
]
/** What any call to a platform can fail with. */
export const UPSTREAM_CALL_ERRORS: readonly WxaErrorCode[] = [
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_BAD_RESPONSE',
  'UPSTREAM_ERROR',
  'APP_CREDENTIALS_INVALID',
]

/** One route, as the OpenAPI document and the docs page show it. */
export interface RouteSpec {
  /** The group: auth, data, profile, devices, example, health, or a platform's routes: its name. */
  tag: string
  summary: string
  description?: string
  /** Whether the route needs a token; `admin`: an operator key of ADMIN_KEYS. */
  auth: boolean | 'admin'
  /** Whether it takes a JSON body (validated by {@link json}). */
  body?: boolean
  /** The 200 answer. */
  response: v.GenericSchema
  /** Its media type. @default 'application/json' */
  responseType?: string
  /** A body the route reads itself rather than through {@link json}: media type -> JSON Schema. */
  content?: Record<string, Record<string, unknown>>
  /** Every error code the route can answer with, beyond those all routes share. */
  errors: readonly WxaErrorCode[]
  /** Answers other than 200 and the JSON errors, by status (`/readyz`'s 503). */
  answers?: Record<number, { description: string; response: v.GenericSchema }>
  /** Path parameters, and query parameters with `in: 'query'`. */
  parameters?: {
    name: string
    description: string
    in?: 'path' | 'query'
    required?: boolean
    schema?: Record<string, unknown>
  }[]
}

/** The error codes of a route, all of them, in the error table's order. */
function routeErrors({ auth, body, errors }: RouteSpec): WxaErrorCode[] {
  const all = new Set([
    ...(auth === 'admin' ? ADMIN_ERRORS : auth ? AUTH_ERRORS : []),
    ...(body ? BODY_ERRORS : []),
    ...errors,
    ...ALWAYS,
  ])
  return (Object.keys(ERROR_STATUS) as WxaErrorCode[]).filter((code) => all.has(code))
}

/** Where {@link describe} and {@link json} leave a route's spec and body schema for the document. */
export const SPEC = Symbol.for('wxa-auth.route.spec')
export const BODY = Symbol.for('wxa-auth.route.body')

/** The error responses of a route, grouped by status, as OpenAPI responses. */
export function errorResponses(spec: RouteSpec) {
  const byStatus = new Map<number, WxaErrorCode[]>()
  for (const code of routeErrors(spec)) {
    const status = ERROR_STATUS[code]
    byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [
      String(status),
      {
        description: codes.join(', '),
        content: {
          'application/json': {
            schema: {
              allOf: [
                { $ref: '#/components/schemas/Error' },
                { properties: { error: { properties: { code: { enum: codes } } } } },
              ],
            },
          },
        },
      },
    ]),
  )
}

/**
 * Describes a route once, where it is declared: its summary, answer and
 * error codes. It does nothing per request; `openApiDocument(app)` finds it
 * among the route's handlers. The request body comes from its {@link json}
 * validator.
 */
export function describe<E extends Env>(spec: RouteSpec): MiddlewareHandler<E> {
  const described: MiddlewareHandler<E> = async function described(_c, next) {
    await next()
  }
  return Object.assign(described, { [SPEC]: spec })
}

const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i

/** What a failed check says, naming the field and never repeating the value. */
function problem(issue: v.BaseIssue<unknown>): string {
  const path = ['body', ...(issue.path ?? []).map((item) => String(item.key))].join('.')
  const requirement = String((issue as { requirement?: unknown }).requirement ?? '')
  switch (issue.type) {
    case 'min_length':
      return `${path} must be at least ${requirement} characters`
    case 'max_length':
      return `${path} must be at most ${requirement} characters`
    case 'regex':
      return `${path} has an invalid format`
    case 'object':
    case 'loose_object':
    case 'strict_object':
      if (issue.expected === 'never') return `${path} is not allowed`
      if (issue.received === 'undefined' && issue.path?.length) return `${path} is required`
      return `${path} must be an object`
    default:
      return issue.kind === 'schema'
        ? `${path} must be a ${issue.expected}`
        : `${path} is not valid`
  }
}

/**
 * The JSON body validator of a route: `c.req.valid('json')` is typed from
 * `schema`, and the OpenAPI document shows `schema` as the request body. A
 * body that is not JSON, or not sent as `application/json`, is
 * `400 INVALID_JSON`; one that does not match is `400 INVALID_REQUEST`
 * naming the field.
 */
export function json<S extends v.GenericSchema>(schema: S) {
  // Typed as able to answer, so that Hono keeps the handler's response type.
  const validate = sValidator('json', schema, (result, c): Response | undefined => {
    // Hono reads a body as JSON only when it says it is (else it validates `{}`):
    // anything else is not a JSON body, whatever it holds.
    if (!JSON_TYPE.test(c.req.header('Content-Type') ?? '')) {
      throw new WxaAuthError(
        'INVALID_JSON',
        'The request body is not JSON: send it with Content-Type: application/json.',
      )
    }
    if (result.success) return undefined
    const [first] = result.error as readonly v.BaseIssue<unknown>[]
    throw new WxaAuthError(
      'INVALID_REQUEST',
      `Invalid request: ${first ? problem(first) : 'body is not valid'}.`,
    )
  })
  return Object.assign(validate, { [BODY]: schema })
}
