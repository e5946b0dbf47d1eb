import { WxaAuthError } from '../errors'

/** How deep any JSON wxa-auth reads may nest (request bodies, pushes, platform answers). */
export const MAX_JSON_DEPTH = 64 // levels of objects and arrays

/**
 * Whether the JSON text `text` nests objects and arrays deeper than
 * `maxDepth`: one pass over the characters, no recursion, before anything
 * parses it. Whatever later walks the parsed value recursively
 * (`structuredClone`, `JSON.stringify`, a schema) then cannot overflow.
 */
export function nestsDeeper(text: string, maxDepth = MAX_JSON_DEPTH): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i)
    if (inString) {
      if (char === 0x5c)
        i++ // a backslash: skip the escaped character
      else if (char === 0x22) inString = false
    } else if (char === 0x22) inString = true
    else if (char === 0x5b || char === 0x7b) {
      if (++depth > maxDepth) return true
    } else if (char === 0x5d || char === 0x7d) depth--
  }
  return false
}

/** JSON nested deeper than {@link MAX_JSON_DEPTH}. */
export const tooDeep = () =>
  new WxaAuthError(
    'PAYLOAD_TOO_LARGE',
    `The JSON nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays.`,
  )

/**
 * `JSON.parse`, refusing text nested deeper than {@link MAX_JSON_DEPTH}
 * before parsing it.
 * @throws WxaAuthError `PAYLOAD_TOO_LARGE` (413) when too deep; SyntaxError when not JSON
 */
export function parseJson(text: string): unknown {
  if (nestsDeeper(text)) throw tooDeep()
  return JSON.parse(text)
}
