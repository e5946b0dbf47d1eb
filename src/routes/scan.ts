import type { Context } from 'hono'
import * as v from 'valibot'
import { WxaAuthError } from '../errors'
import { confirmScan, createScan, denyScan, markScanned, pollScan } from '../flows/scan'
import { limitBody } from '../middleware/body-limit'
import { clientAddress, limits, rateLimit } from '../middleware/rate-limit'
import { requireLogin } from '../middleware/require-login'
import type { WxaEnv } from '../middleware/session'
import { BODY, describe, UPSTREAM_CALL_ERRORS } from '../openapi/describe'
import type { ResolvedOptions } from '../options'
import { Hono } from '../util/hono'
import { flowContext } from './flow-context'
import { Ok, TokenResponse } from './schemas'

const isoTime = v.pipe(v.string(), v.isoTimestamp())

const ScanBody = v.object({
  appId: v.optional(
    v.pipe(
      v.string(),
      v.description('The mini program whose code to show; default: the only one that makes codes.'),
    ),
  ),
})

const ScanResponse = v.object({
  ticket: v.pipe(
    v.string(),
    v.description('32 characters, base64url: the scene of the code; poll GET /auth/scan/<ticket>.'),
  ),
  qrcode: v.pipe(
    v.string(),
    v.description('The mini program code as a data: URL (image/png or image/jpeg, base64).'),
  ),
  expiresAt: isoTime,
  appId: v.string(),
})

/** One shape (the document knows no unions): the token fields only when confirmed. */
const PollResponse = v.object({
  status: v.picklist(['pending', 'scanned', 'confirmed', 'denied', 'expired']),
  ...v.partial(TokenResponse).entries,
  user: v.optional(v.pipe(v.looseObject({}), v.description('When confirmed: who confirmed.'))),
})

const ScannedResponse = v.object({
  ok: v.literal(true),
  pc: v.pipe(
    v.object({
      userAgent: v.optional(v.string()),
      requestedAt: v.pipe(v.number(), v.description('Unix seconds')),
    }),
    v.description('The PC that asked for the ticket: show it to the user before a confirmation.'),
  ),
})

/** What a ticket's routes may answer beside their answer. */
const TICKET_ERRORS = [
  'INVALID_REQUEST',
  'RATE_LIMITED',
  'SCAN_TICKET_EXPIRED',
  'SCAN_TICKET_USED',
  'STORAGE_UNAVAILABLE',
  'STORAGE_OUTCOME_UNKNOWN',
] as const

const TICKET = [
  { name: 'ticket', in: 'path' as const, description: 'The ticket from POST /auth/scan.' },
]

/** `POST /auth/scan`'s body, read leniently: none, or one not JSON, asks for the default app. */
function createHandler<User extends { id: string }>(resolved: ResolvedOptions<User>) {
  const handler = async (c: Context<WxaEnv<User>>) => {
    const body: unknown = await c.req.json().catch(() => undefined)
    const appId = typeof body === 'object' && body !== null ? Reflect.get(body, 'appId') : undefined
    if (appId !== undefined && typeof appId !== 'string') {
      throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: body.appId must be a string.')
    }
    const answer = await createScan(flowContext(resolved, c), appId, c.req.header('User-Agent'))
    c.header('Cache-Control', 'no-store')
    return c.json(answer)
  }
  return Object.assign(handler, { [BODY]: ScanBody })
}

/**
 * Scan-to-login for a PC (小程序扫码登录): the PC asks for a ticket and its
 * mini program code, the logged-in mini program confirms (or denies) it, the
 * PC polls until it gets a new session of that user, once. Made by
 * {@link wxaAuth} beside the other `/auth` routes. @internal
 */
export function scanRoutes<User extends { id: string }>(resolved: ResolvedOptions<User>) {
  const routes = new Hono<WxaEnv<User>>()
  const { loginLimit, userLimit } = limits(resolved)
  const { config, log } = resolved
  // The PC's polls: by address, in their own bucket of the login limiter (poll every 3 s or slower).
  const pollLimit = rateLimit({
    limiter: (c) => config(c).rateLimits.login,
    key: (c) => `scan:${clientAddress(c, log, config(c).clientAddress)}`,
    log,
  })
  const ticket = (c: Context) => c.req.param('ticket') ?? ''

  routes.post(
    '/scan',
    describe({
      tag: 'auth',
      summary: 'Start a scan-to-login on a PC: a ticket and its mini program code',
      description:
        'Answers a random single-use ticket, the mini program code (getwxacodeunlimit, scene = the ticket, page = WECHAT_SCAN_PAGE) as a data: URL, and when the ticket expires (SCAN_TTL_SECONDS, 300). Then poll GET /auth/scan/<ticket>. Limited as logins are.',
      auth: false,
      body: true,
      response: ScanResponse,
      errors: [
        'UNKNOWN_APP',
        'NOT_OFFERED',
        'RATE_LIMITED',
        'ACCESS_TOKEN_INVALID',
        ...UPSTREAM_CALL_ERRORS,
        'STORAGE_UNAVAILABLE',
        'STORAGE_OUTCOME_UNKNOWN',
      ],
    }),
    loginLimit,
    limitBody(),
    createHandler(resolved),
  )

  routes.get(
    '/scan/:ticket',
    describe({
      tag: 'auth',
      summary: 'Poll a scan-to-login ticket (the PC)',
      description:
        'pending, scanned (the mini program opened the page), denied, expired, or confirmed with the login answer: a new session (device platform pc-scan) of the user who confirmed. The login is answered once; a later read is 409 SCAN_TICKET_USED.',
      auth: false,
      parameters: TICKET,
      response: PollResponse,
      errors: [...TICKET_ERRORS, 'USER_BANNED'],
    }),
    pollLimit,
    async (c) => {
      const answer = await pollScan(flowContext(resolved, c), ticket(c), c.req.header('User-Agent'))
      c.header('Cache-Control', 'no-store')
      return c.json(answer)
    },
  )

  const step = (
    path: string,
    summary: string,
    run: (c: Context<WxaEnv<User>>) => Promise<object | undefined>,
    response: v.GenericSchema = Ok,
  ) =>
    routes.post(
      `/scan/:ticket/${path}`,
      describe({
        tag: 'auth',
        summary,
        auth: true,
        parameters: TICKET,
        response,
        errors: TICKET_ERRORS,
      }),
      requireLogin(),
      userLimit,
      async (c) => c.json({ ok: true as const, ...(await run(c)) }),
    )
  step(
    'scanned',
    'The mini program opened the scan page: which PC asked, to show before confirming',
    (c) => markScanned(flowContext(resolved, c), ticket(c)),
    ScannedResponse,
  )
  step('confirm', 'Confirm a scan-to-login from the logged-in mini program', async (c) => {
    await confirmScan(flowContext(resolved, c), ticket(c), c.var.session, c.var.user as User)
    return undefined
  })
  step('deny', 'Refuse a scan-to-login from the mini program', async (c) => {
    await denyScan(flowContext(resolved, c), ticket(c))
    return undefined
  })
  return routes
}
