import type { Env, Schema } from 'hono'
import { HonoBase, type HonoOptions } from 'hono/hono-base'
import { RegExpRouter } from 'hono/router/reg-exp-router'
import type { BlankEnv, BlankSchema } from 'hono/types'

/**
 * Hono with `RegExpRouter` alone: every route of the app in one regular
 * expression, built on the first request, where `hono/tiny`'s `PatternRouter`
 * tries each route in turn (a route mounted last, such as `GET /me`, after
 * all the others). Smaller than `hono`'s default, which adds the trie router
 * as a fallback for patterns this app does not use.
 */
export class Hono<
  E extends Env = BlankEnv,
  S extends Schema = BlankSchema,
  BasePath extends string = '/',
> extends HonoBase<E, S, BasePath> {
  constructor(options: HonoOptions<E> = {}) {
    super({ ...options, router: new RegExpRouter() })
  }
}
