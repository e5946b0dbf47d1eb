import type { Context } from 'hono'
import { WxaAuthError } from './errors'

/**
 * The small subset of JSON Schema that request bodies use. The same objects
 * validate requests and document them, so the two cannot drift apart.
 */
export type StringSchema = {
  type: 'string'
  minLength?: number
  maxLength?: number
  pattern?: string
  description?: string
}
export type ObjectSchema = {
  type: 'object'
  properties: Record<string, JsonSchema>
  required?: readonly string[]
  additionalProperties?: boolean
  description?: string
}
export type JsonSchema = StringSchema | ObjectSchema

type Infer<S> = S extends StringSchema
  ? string
  : S extends ObjectSchema
    ? { [K in keyof S['properties']]?: Infer<S['properties'][K]> } & {
        [K in NonNullable<S['required']>[number]]: Infer<S['properties'][K]>
      }
    : never

const patterns = new Map<string, RegExp>()

/** Returns why `value` does not match `schema`, or null when it does. */
export function validate(schema: JsonSchema, value: unknown, path = 'body'): string | null {
  if (schema.type === 'string') {
    if (typeof value !== 'string') return `${path} must be a string`
    if (schema.minLength !== undefined && value.length < schema.minLength)
      return `${path} must be at least ${schema.minLength} characters`
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      return `${path} must be at most ${schema.maxLength} characters`
    if (schema.pattern !== undefined) {
      const re = patterns.get(schema.pattern) ?? new RegExp(schema.pattern, 'u')
      patterns.set(schema.pattern, re)
      if (!re.test(value)) return `${path} has an invalid format`
    }
    return null
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `${path} must be an object`
  const record = value as Record<string, unknown>
  for (const key of schema.required ?? []) {
    if (record[key] === undefined) return `${path}.${key} is required`
  }
  for (const [key, item] of Object.entries(record)) {
    const sub = Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined
    if (!sub) {
      if (schema.additionalProperties === false) return `${path}.${key} is not allowed`
      continue
    }
    const problem = validate(sub, item, `${path}.${key}`)
    if (problem) return problem
  }
  return null
}

/**
 * Reads the JSON body of `c` and validates it against `schema`.
 * @throws WxaAuthError `INVALID_JSON` or `INVALID_REQUEST` (both 400)
 */
export async function readJson<S extends ObjectSchema>(c: Context, schema: S): Promise<Infer<S>> {
  let body: unknown
  try {
    body = JSON.parse(await c.req.text())
  } catch (cause) {
    throw new WxaAuthError('INVALID_JSON', undefined, { cause })
  }
  const problem = validate(schema, body)
  if (problem) throw new WxaAuthError('INVALID_REQUEST', `Invalid request: ${problem}.`)
  return body as Infer<S>
}
