import type { WxaConfig } from '../config'
import { WxaAuthError } from '../errors'
import { clientAddressOf, deviceSummary, recordAudit } from '../operators/audit'
import type { App, PlatformName } from '../platforms/index'
import { deviceHints } from '../session/device'
import type { Session } from '../session/session'
import type { IssuedToken } from '../token/issue'
import { ownClaims } from '../token/issue'
import { importKeyRing } from '../token/keys'
import { base64url } from '../util/base64url'
import { appOf, type FlowContext } from './context'
import { startSession } from './start-session'

/**
 * A ticket: 24 random bytes in base64url, 32 characters, what getwxacodeunlimit's
 * `scene` holds at most (`-` and `_` are among its characters).
 */
export const SCAN_TICKET = /^[A-Za-z0-9_-]{32}$/
/** Seconds the PC has to collect a confirmed login, however late in the ticket's life it came. */
export const SCAN_PICKUP = 60
/** Seconds a ticket's record outlives it, so that a late poll hears `expired`, not silence. */
const KEEP = 10 * 60
/** The tag a read leaves on an id no ticket holds: read as expired. */
const NONE = 'u'
/** The claim scope of a ticket's id: 64 of them (Durable Objects), so that no one object serves every PC. */
const scope = (id: string) => `scan:${id[0]}`

/** What the helpers below need of a flow. */
type Flow = { config: WxaConfig; now: number }

export type ScanStatus = 'pending' | 'scanned' | 'confirmed' | 'denied' | 'expired'

/** What a ticket's record says: p(ending), s(canned), c(onfirmed), d(enied), t(aken). */
interface Held {
  tag: string
  state: 'p' | 's' | 'c' | 'd' | 't'
  exp: number
  sealed?: string
}

/** What a confirmation keeps, sealed, until the PC collects it. */
interface Confirmed {
  uid: string
  /** The public id of the confirming session: it must still be live when the PC collects. */
  by: string
  platform: PlatformName
  appId: string
  openid: string
  unionid?: string
  claims?: Record<string, unknown>
  user: unknown
}

const encoder = new TextEncoder()

/** The store's id of a ticket: a hash, so that the store never holds a live ticket. */
async function ticketId(ticket: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(`wxa-auth scan:${ticket}`))
  return base64url(new Uint8Array(digest))
}

function checked(ticket: string): string {
  if (!SCAN_TICKET.test(ticket)) {
    throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: not a scan-to-login ticket.')
  }
  return ticket
}

/** The ticket's record, read from the claim store (strongly consistent); null: none. */
async function read({ config, now }: Flow, id: string) {
  const tag = await config.claims.claim(scope(id), id, NONE, KEEP, now)
  if (tag === null || tag === NONE) return null
  const [state, exp, ...rest] = tag.split('.')
  if (!state || !'pscdt'.includes(state) || state.length !== 1) return null
  return {
    tag,
    state: state as Held['state'],
    exp: Number(exp),
    ...(rest.length ? { sealed: rest.join('.') } : {}),
  } satisfies Held
}

const swap = (flow: Flow, id: string, from: string, to: string, exp: number) =>
  flow.config.claims.swap(scope(id), id, from, to, Math.max(1, exp - flow.now + KEEP), flow.now)

/**
 * The mini program whose code to show: the named one; else the default app
 * (the first configured, as for a login) when it makes codes, else the only
 * one that does.
 */
function codeApp({ config }: Flow, appId: string | undefined): App {
  const named = appOf(config, appId ?? config.defaultAppId)
  if (named.miniProgramCode) return named
  const able = [...config.apps.values()].filter((app) => app.miniProgramCode)
  if (appId !== undefined || able.length !== 1) throw new WxaAuthError('NOT_OFFERED')
  return able[0] as App
}

/** base64 of bytes, in chunks (a code is tens of KiB). */
function base64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

/**
 * A new scan-to-login ticket and its mini program code (a `data:` URL): the
 * code opens `WECHAT_SCAN_PAGE` with the ticket as `scene`. The ticket waits
 * `SCAN_TTL_SECONDS` for the mini program's confirmation.
 */
export async function createScan<User extends { id: string }>(
  flow: FlowContext<User>,
  appId: string | undefined,
  userAgent: string | undefined,
): Promise<{ ticket: string; qrcode: string; expiresAt: string; appId: string }> {
  const { config, now } = flow
  const app = codeApp(flow, appId)
  const ticket = base64url(crypto.getRandomValues(new Uint8Array(24)))
  const { page, envVersion, ttl } = config.scan
  const code = await (app.miniProgramCode as NonNullable<App['miniProgramCode']>)({
    scene: ticket,
    page,
    // An unpublished page is allowed only for the trial and develop versions.
    checkPath: envVersion === 'release',
    envVersion,
  })
  const exp = now + ttl
  const id = await ticketId(ticket)
  // Who asked, for the mini program to show before its user confirms (a code can be phished).
  const pc: ScanRequester = { ...deviceHints({}, userAgent ?? ''), requestedAt: now }
  const sealed = await config.cipher.seal(JSON.stringify(pc), `scan-pc:${id}`)
  const prior = await config.claims.claim(scope(id), id, `p.${exp}.${sealed}`, ttl + KEEP, now)
  if (prior !== null) throw new WxaAuthError('INTERNAL_ERROR') // 192 random bits met before
  return {
    ticket,
    qrcode: `data:${code.type};base64,${base64(code.bytes)}`,
    expiresAt: new Date(exp * 1000).toISOString(),
    appId: app.appId,
  }
}

/**
 * Moves a live ticket from one of `from` to what `next` makes of it, atomically;
 * retried when another request changed it between the read and the swap.
 */
async function advance<User extends { id: string }>(
  flow: FlowContext<User>,
  ticket: string,
  decide: (held: Held) => Promise<string | null>,
): Promise<Held> {
  const id = await ticketId(checked(ticket))
  for (let round = 0; round < 4; round++) {
    const held = await read(flow, id)
    if (!held || held.exp <= flow.now) throw new WxaAuthError('SCAN_TICKET_EXPIRED')
    const next = await decide(held)
    if (next === null) return held
    const exp = Number(next.split('.')[1])
    if (await swap(flow, id, held.tag, next, exp)) return held
  }
  throw new WxaAuthError('STORAGE_UNAVAILABLE', undefined, { retryAfter: 1 })
}

const used = () => {
  throw new WxaAuthError('SCAN_TICKET_USED')
}

/** The PC that asked for a ticket: what the mini program shows before its user confirms. */
export interface ScanRequester {
  /** The PC browser's User-Agent, cut as a device's is. */
  userAgent?: string
  /** Unix seconds. */
  requestedAt: number
}

/**
 * The mini program opened the code's page: the PC may say "scanned, confirm
 * on your phone", and the mini program hears which PC asked, to show its user
 * before a confirmation (a code sent to someone else is how scan logins are phished).
 */
export async function markScanned<User extends { id: string }>(
  flow: FlowContext<User>,
  ticket: string,
): Promise<{ pc: ScanRequester }> {
  const id = await ticketId(checked(ticket))
  const held = await advance(flow, ticket, async ({ state, exp, sealed }) =>
    state === 'p' ? `s.${exp}.${sealed ?? ''}` : state === 's' ? null : used(),
  )
  // Every ticket carries its PC from POST /auth/scan; a record that does not open is no ticket.
  const opened = await flow.config.cipher.open(held.sealed ?? '', `scan-pc:${id}`)
  if (opened === null) throw new WxaAuthError('SCAN_TICKET_EXPIRED')
  return { pc: JSON.parse(opened) as ScanRequester }
}

/** The user said no on the phone. Denying twice is fine; after a confirmation, SCAN_TICKET_USED. */
export async function denyScan<User extends { id: string }>(
  flow: FlowContext<User>,
  ticket: string,
): Promise<void> {
  await advance(flow, ticket, async ({ state, exp }) =>
    state === 'p' || state === 's' ? `d.${exp}` : state === 'd' ? null : used(),
  )
}

/**
 * The logged-in mini program user confirms: the PC's next poll gets a new
 * session of this user. What it needs (the user id, the identity, the claims
 * of the confirming session) is kept sealed in the ticket's record until then.
 */
export async function confirmScan<User extends { id: string }>(
  flow: FlowContext<User>,
  ticket: string,
  session: Session,
  user: User,
): Promise<void> {
  const { config, now } = flow
  const { userId: uid, appId, platform, openid, unionid, id: by } = session
  if (!session.active || !uid || !by || !appId || !platform || !openid) {
    throw new WxaAuthError('AUTH_REQUIRED')
  }
  const claims = ownClaims(session.presented?.claims ?? {})
  const confirmed: Confirmed = {
    uid,
    by,
    platform,
    appId,
    openid,
    ...(unionid ? { unionid } : {}),
    ...(claims ? { claims } : {}),
    user,
  }
  const id = await ticketId(checked(ticket))
  await advance(flow, ticket, async ({ state }) => {
    if (state !== 'p' && state !== 's') used()
    const exp = now + SCAN_PICKUP
    const sealed = await config.cipher.seal(JSON.stringify(confirmed), `scan:${id}:${exp}`)
    return `c.${exp}.${sealed}`
  })
}

export type ScanPoll =
  | { status: Exclude<ScanStatus, 'confirmed'> }
  | (IssuedToken & { status: 'confirmed'; user: unknown })

/**
 * What the PC's poll hears. A confirmed ticket's login is handed out once:
 * the poll that takes it (an atomic swap) starts the session; any later
 * read is SCAN_TICKET_USED.
 */
export async function pollScan<User extends { id: string }>(
  flow: FlowContext<User>,
  ticket: string,
  userAgent: string | undefined,
): Promise<ScanPoll> {
  const { config, now } = flow
  const id = await ticketId(checked(ticket))
  for (let round = 0; round < 4; round++) {
    const held = await read(flow, id)
    if (!held) return { status: 'expired' }
    if (held.state === 't') throw new WxaAuthError('SCAN_TICKET_USED')
    if (held.exp <= now) return { status: 'expired' }
    if (held.state === 'p') return { status: 'pending' }
    if (held.state === 's') return { status: 'scanned' }
    if (held.state === 'd') return { status: 'denied' }
    // Confirmed: take it, then start the session. A session lost after the take is a 5xx; scan again.
    if (!(await swap(flow, id, held.tag, `t.${held.exp}`, held.exp))) continue
    const opened = await config.cipher.open(held.sealed ?? '', `scan:${id}:${held.exp}`)
    if (opened === null) throw new WxaAuthError('SCAN_TICKET_EXPIRED')
    const who = JSON.parse(opened) as Confirmed
    // Logged out, logged out everywhere or deleted since it confirmed: no session for the PC.
    if (!(await config.sessions.list(who.uid, now)).some(({ id }) => id === who.by)) {
      throw new WxaAuthError(
        'SCAN_TICKET_EXPIRED',
        'The mini program session that confirmed this ticket has ended; show a new code.',
      )
    }
    await importKeyRing(config.secrets)
    const device = deviceHints({ platform: 'pc-scan' }, userAgent)
    const { id: session, ...token } = await startSession(flow, who, {
      claims: who.claims,
      device,
    })
    void recordAudit(flow, {
      type: 'login',
      uid: who.uid,
      actor: 'user',
      detail: {
        platform: who.platform,
        app: who.appId,
        kind: 'scan',
        session,
        confirmedBy: who.by,
        ...deviceSummary(device),
        ...clientAddressOf(config, flow.c),
      },
    })
    return { status: 'confirmed', ...token, user: who.user }
  }
  throw new WxaAuthError('STORAGE_UNAVAILABLE', undefined, { retryAfter: 1 })
}
