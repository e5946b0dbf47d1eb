import type { Context } from 'hono'
import { adminConsole } from '../admin/console'
import { WxaAuthError } from '../errors'
import {
  banUser,
  DEFAULT_PAGE,
  deleteUser,
  endUserSession,
  exportAudit,
  findUsers,
  logoutUser,
  MAX_PAGE,
  readAudit,
  unbanUser,
  viewUser,
} from '../flows/admin'
import { type AdminEnv, adminAuth, adminOnly } from '../middleware/admin'
import { limitBody } from '../middleware/body-limit'
import { describe, json } from '../openapi/describe'
import { AUDIT_TYPES, type AuditFilter, type AuditType } from '../operators/ports'
import type { ResolvedOptions } from '../options'
import { Hono } from '../util/hono'
import {
  AuditResponse,
  BanBody,
  BanResponse,
  LoggedOutResponse,
  UnbanResponse,
  UserResponse,
  UsersResponse,
} from './admin-schemas'
import { flowContext } from './flow-context'
import { Ok } from './schemas'

const MAX_QUERY = 256 // characters of a search
const NDJSON = 'application/x-ndjson'

const invalid = (what: string) => new WxaAuthError('INVALID_REQUEST', `Invalid request: ${what}.`)

/** `cursor` and `limit` (1–100, default 50) of a query. */
function pageOf(c: Context) {
  const cursor = c.req.query('cursor') || undefined
  const text = c.req.query('limit')
  const limit = text === undefined ? DEFAULT_PAGE : Number(text)
  if (!/^\d{1,3}$/.test(text ?? '50') || limit < 1 || limit > MAX_PAGE) {
    throw invalid(`limit must be 1 to ${MAX_PAGE}`)
  }
  if (cursor && cursor.length > 512) throw invalid('cursor is not one this API gave')
  return { cursor, limit }
}

/** A time of the audit filter: unix milliseconds, or an ISO 8601 timestamp. */
function timeOf(c: Context, name: 'since' | 'until'): number | undefined {
  const text = c.req.query(name)
  if (!text) return undefined
  const at = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text)
  if (!Number.isFinite(at)) throw invalid(`${name} must be unix milliseconds or an ISO 8601 time`)
  return at
}

function auditFilter(c: Context): AuditFilter {
  const uid = c.req.query('user') || undefined
  const type = c.req.query('type') || undefined
  if (type !== undefined && !(AUDIT_TYPES as readonly string[]).includes(type)) {
    throw invalid(`type must be one of ${AUDIT_TYPES.join(', ')}`)
  }
  return {
    ...(uid ? { uid } : {}),
    ...(type ? { type: type as AuditType } : {}),
    ...(timeOf(c, 'since') !== undefined ? { since: timeOf(c, 'since') } : {}),
    ...(timeOf(c, 'until') !== undefined ? { until: timeOf(c, 'until') } : {}),
  }
}

const USER_ID = { name: 'id', in: 'path' as const, description: 'The user id (the token’s sub).' }
const PAGE = [
  {
    name: 'cursor',
    in: 'query' as const,
    description: 'From the previous page’s cursor.',
  },
  {
    name: 'limit',
    in: 'query' as const,
    description: `1 to ${MAX_PAGE}; default ${DEFAULT_PAGE}.`,
    schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE },
  },
]

/**
 * The operators' console at `/admin` (src/admin/console.ts) and their API
 * under `/admin/api` (mount at `/admin`): find a user,
 * see them, ban, unban, log out, end a session, delete the account, read and
 * export the audit log. The whole tree is 404 without `ADMIN_KEYS`; every
 * call needs an operator key (see {@link adminAuth}) and leaves an audit
 * record naming its kid. @internal
 */
export function adminRoutes<User extends { id: string }>(resolved: ResolvedOptions<User>) {
  const routes = new Hono<AdminEnv>()
  routes.use('*', adminOnly(resolved))
  routes.use('/api/*', adminAuth(resolved))
  // The console: a page on the API below; it needs no key, the API does.
  routes.route('/', adminConsole() as unknown as Hono<AdminEnv>)
  const flow = (c: Context) => flowContext(resolved, c)
  const noStore = (c: Context) => c.header('Cache-Control', 'no-store')

  routes.get(
    '/api/users',
    describe({
      tag: 'admin',
      summary: 'Find users by id, openid, unionid or phone number',
      description:
        'A phone number (+86 138…, 138…, 0086…) is normalized and searched by its keyed hash (the directory keeps no numbers, and the audit record keeps no query); anything else is searched as a user id, an openid and a unionid at once. Ordered by user id.',
      auth: 'admin',
      parameters: [
        { name: 'q', in: 'query', required: true, description: 'What to search for.' },
        ...PAGE,
      ],
      response: UsersResponse,
      errors: ['INVALID_REQUEST'],
    }),
    async (c) => {
      const q = c.req.query('q')?.trim() ?? ''
      if (!q || q.length > MAX_QUERY) throw invalid(`q must be 1 to ${MAX_QUERY} characters`)
      noStore(c)
      return c.json(await findUsers(flow(c), q, pageOf(c), c.var.operator))
    },
  )

  routes.get(
    '/api/users/:id',
    describe({
      tag: 'admin',
      summary: 'A user: identities, devices, profile, ban and latest audit records',
      auth: 'admin',
      parameters: [USER_ID],
      response: UserResponse,
      errors: ['USER_NOT_FOUND'],
    }),
    async (c) => {
      noStore(c)
      const origin = new URL(c.req.url).origin
      return c.json(await viewUser(flow(c), c.req.param('id'), c.var.operator, origin))
    },
  )

  routes.post(
    '/api/users/:id/ban',
    describe({
      tag: 'admin',
      summary: 'Ban a user: every session ends now; login and refresh answer 403 USER_BANNED',
      description:
        'Replaces any earlier ban. With until (unix seconds, in the future) it lifts itself then. Every platform and door of the user is refused, since each login goes through the user’s session authority.',
      auth: 'admin',
      body: true,
      parameters: [USER_ID],
      response: BanResponse,
      errors: ['USER_NOT_FOUND', 'STORAGE_OUTCOME_UNKNOWN'],
    }),
    limitBody(),
    json(BanBody),
    async (c) => {
      const body = c.req.valid('json')
      const ban = await banUser(flow(c), c.req.param('id'), body, c.var.operator)
      return c.json({ ban })
    },
  )

  routes.delete(
    '/api/users/:id/ban',
    describe({
      tag: 'admin',
      summary: 'Lift a user’s ban',
      auth: 'admin',
      parameters: [USER_ID],
      response: UnbanResponse,
      errors: ['USER_NOT_FOUND', 'STORAGE_OUTCOME_UNKNOWN'],
    }),
    async (c) => {
      const lifted = await unbanUser(flow(c), c.req.param('id'), c.var.operator)
      return c.json({ ok: true as const, lifted })
    },
  )

  routes.post(
    '/api/users/:id/logout',
    describe({
      tag: 'admin',
      summary: 'End every session of a user',
      auth: 'admin',
      parameters: [USER_ID],
      response: LoggedOutResponse,
      errors: ['USER_NOT_FOUND', 'STORAGE_OUTCOME_UNKNOWN'],
    }),
    async (c) => {
      const loggedOut = await logoutUser(flow(c), c.req.param('id'), c.var.operator)
      return c.json({ ok: true as const, loggedOut })
    },
  )

  routes.delete(
    '/api/users/:id/sessions/:sessionId',
    describe({
      tag: 'admin',
      summary: 'End one session of a user',
      auth: 'admin',
      parameters: [
        USER_ID,
        {
          name: 'sessionId',
          in: 'path',
          description: 'A device’s id, from GET /admin/api/users/{id}.',
        },
      ],
      response: Ok,
      errors: ['SESSION_NOT_FOUND', 'USER_NOT_FOUND', 'STORAGE_OUTCOME_UNKNOWN'],
    }),
    async (c) => {
      const { id, sessionId } = c.req.param()
      await endUserSession(flow(c), id, sessionId, c.var.operator)
      return c.json({ ok: true as const })
    },
  )

  routes.delete(
    '/api/users/:id',
    describe({
      tag: 'admin',
      summary: 'Delete a user’s account, as the user’s own deletion (注销) does',
      description:
        'Calls onDeleteAccount, ends every session, deletes every identity and unionid link, the profile with its avatar, the ban and the directory’s entries.',
      auth: 'admin',
      parameters: [USER_ID],
      response: Ok,
      errors: ['USER_NOT_FOUND', 'STORAGE_OUTCOME_UNKNOWN'],
    }),
    async (c) => {
      await deleteUser(flow(c), c.req.param('id'), c.var.operator)
      return c.json({ ok: true as const })
    },
  )

  routes.get(
    '/api/audit',
    describe({
      tag: 'admin',
      summary: 'Read the audit log, or export it as NDJSON',
      description:
        'Oldest first, filtered by user, type and time (since inclusive, until exclusive; unix milliseconds or ISO 8601). With Accept: application/x-ndjson or format=ndjson, every page as one stream, a record a line.',
      auth: 'admin',
      parameters: [
        { name: 'user', in: 'query', description: 'A user id.' },
        { name: 'type', in: 'query', description: 'A record type.', schema: { enum: AUDIT_TYPES } },
        { name: 'since', in: 'query', description: 'From (inclusive).' },
        { name: 'until', in: 'query', description: 'To (exclusive).' },
        {
          name: 'format',
          in: 'query',
          description: '`ndjson`: the export.',
          schema: { enum: ['json', 'ndjson'] },
        },
        ...PAGE,
      ],
      response: AuditResponse,
      errors: ['INVALID_REQUEST'],
    }),
    async (c) => {
      const filter = auditFilter(c)
      const format = c.req.query('format')
      if (format !== undefined && format !== 'json' && format !== 'ndjson') {
        throw invalid('format must be json or ndjson')
      }
      noStore(c)
      if (format === 'ndjson' || (!format && (c.req.header('Accept') ?? '').includes(NDJSON))) {
        return new Response(exportAudit(flow(c), filter, c.var.operator), {
          headers: {
            'Content-Type': NDJSON,
            'Cache-Control': 'no-store',
            'Content-Disposition': 'attachment; filename="audit.ndjson"',
          },
        })
      }
      return c.json(await readAudit(flow(c), filter, pageOf(c), c.var.operator))
    },
  )

  return routes
}
