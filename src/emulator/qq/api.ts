import type { Hono } from 'hono'
import { jscode2sessionRoute } from '../jscode2session'
import type { EmulatorState } from '../wechat/state'

/**
 * QQ's face: `GET /sns/jscode2session`, WeChat's query, answer and errcodes
 * on QQ's host, for the QQ apps and QQ's users.
 */
export function qqApi(app: Hono, state: EmulatorState) {
  app.get('/sns/jscode2session', jscode2sessionRoute(state, 'qq'))
}
