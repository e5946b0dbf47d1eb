import type { Context } from 'hono'
import type { FlowContext } from '../flows/context'
import type { ResolvedOptions } from '../options'

/** The flow of a request: the configuration of its runtime, the hooks, the time. */
export function flowContext<User extends { id: string }>(
  { config, hooks, ownUsers, now, log }: ResolvedOptions<User>,
  // biome-ignore lint/suspicious/noExplicitAny: any route's context
  c: Context<any, any, any>,
): FlowContext<User> {
  return { config: config(c), hooks, ownUsers, now: now(), c, log }
}
