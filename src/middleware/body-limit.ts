import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { WxaAuthError } from '../errors'
import { MAX_JSON_DEPTH, nestsDeeper, tooDeep } from '../util/json'

export const MAX_BODY_SIZE = 16 * 1024 // bytes

/**
 * Refuses bodies over {@link MAX_BODY_SIZE} (or `maxSize`) with 413 before
 * they are read, and a JSON body nested deeper than {@link MAX_JSON_DEPTH}
 * with 413 before anything parses it.
 */
export const limitBody = (maxSize = MAX_BODY_SIZE): MiddlewareHandler => {
  const limit = bodyLimit({
    maxSize,
    onError: () => {
      throw new WxaAuthError('PAYLOAD_TOO_LARGE')
    },
  })
  return (c, next) =>
    limit(c, async () => {
      // Any type Hono's validator reads as JSON (`application/json`, `application/…+json`).
      if (/json/i.test(c.req.header('Content-Type') ?? '')) {
        // Read once into Hono's cache: `c.req.json()` parses this text later.
        if (nestsDeeper(await c.req.text())) throw tooDeep()
      }
      await next()
    })
}
