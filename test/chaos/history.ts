// What the chaos workload did and what the servers answered, as plain data:
// the checker reads nothing else.

export type OpKind =
  /** `POST /__emulator/code`: a login code from the WeChat emulator. */
  | 'code'
  /** `POST /auth/login`. */
  | 'login'
  /** `GET /me`. */
  | 'read'
  /** `PATCH /me/session {"k<n>": n}`. */
  | 'write'
  /** `POST /auth/refresh {"refreshToken"}`: `token` names the refresh token's generation. */
  | 'refresh'
  /** `POST /auth/refresh` by a thief holding only an access token (in the header and the body). */
  | 'steal'
  /** `GET /auth/sessions`. */
  | 'list'
  /** `POST /auth/logout`. */
  | 'logout'
  /** `DELETE /auth/sessions/:id`. */
  | 'revoke'
  /** `POST /auth/logout-all`. */
  | 'logout-all'
  /** `GET /me` through the strict endpoint once the workload is over. */
  | 'final-read'
  /** `GET /auth/sessions` through the strict endpoint once the workload is over. */
  | 'final-list'
  /** `POST /admin/api/users/:id/ban` by an operator: ends every session, refuses logins and refreshes. */
  | 'ban'
  /** `DELETE /admin/api/users/:id/ban` by an operator. */
  | 'unban'

/** A token as the client knows it: its session's public id and its generation (the `gen` claim). */
export interface TokenRef {
  session: string
  gen: number
}

export type Outcome =
  /** The server answered; `code` is `error.code` of an error body. */
  | { type: 'reply'; status: number; code: string | null }
  /** No answer: a network error, a reset, a timeout. */
  | { type: 'error'; message: string }

export interface Op {
  id: number
  kind: OpKind
  /** The endpoint's name. */
  endpoint: string
  /** Whether that endpoint is the strict one. */
  strict: boolean
  /** The user (openid) the op is for. */
  user: string
  /** Milliseconds, `performance.now()`. */
  start: number
  end: number
  /** The token presented. */
  token?: TokenRef
  /** A login's door: the mini program, an Official Account page or an App. */
  door?: 'mini' | 'oa' | 'app'
  /** `revoke`: the public id of the session it ends. */
  target?: string
  /** `write`: the one key it sets, and to what. */
  write?: { key: string; value: number }
  outcome: Outcome
  /** `login`, `refresh` answered 2xx: the token it gave. */
  issued?: TokenRef
  /** `refresh`: its answer was dropped by the client, which sent it again at once. */
  lost?: boolean
  /** `list`, `final-list` answered 2xx: the public ids listed. */
  listed?: string[]
  /** `read`, `final-read` answered 2xx: the session data. */
  data?: Record<string, unknown>
}

export interface History {
  ops: Op[]
  /** When the cluster was killed and when it answered again; null without a crash. */
  crash: { killedAt: number; restartedAt: number } | null
}

export const statusOf = (op: Op) => (op.outcome.type === 'reply' ? op.outcome.status : undefined)
export const codeOf = (op: Op) => (op.outcome.type === 'reply' ? op.outcome.code : null)
/** The server acknowledged it: a 2xx. */
export const acked = (op: Op) => {
  const status = statusOf(op)
  return status !== undefined && status >= 200 && status < 300
}
/** The server refused it: a 4xx, which changes nothing. */
export const refused = (op: Op) => {
  const status = statusOf(op)
  return status !== undefined && status >= 400 && status < 500
}
/** Nobody knows whether it took effect: no answer, or a 5xx. */
export const unknown = (op: Op) => {
  const status = statusOf(op)
  return status === undefined || status >= 500
}
