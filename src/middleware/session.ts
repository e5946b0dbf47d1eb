import { createMiddleware } from 'hono/factory'
import type { WxaBindings } from '../config'
import { resolveOptions, type WxaAuthOptions } from '../config'
import { isWxaAuthError, WxaAuthError, type WxaErrorCode } from '../errors'
import { hashSessionId } from '../session/ids'
import { exceedsShape, MAX_SESSION_DEPTH } from '../session/limits'
import { Session } from '../session/session'
import { verifyToken } from '../token/jwt'
import { importKeyRing } from '../token/keys'
import type { DefaultUser } from '../user/hooks'

/** The context variables wxa-auth sets. */
export type WxaVariables<User = DefaultUser> = {
  /** The logged-in user, or null. */
  user: User | null
  /** The mutable session; empty and never written when anonymous. */
  session: Session
  /** Why the request is anonymous although it carried a token, for `requireLogin`. */
  authError: WxaErrorCode | null
}

/** The Hono env of apps that use wxa-auth. */
export type WxaEnv<User = DefaultUser> = {
  Bindings: WxaBindings
  Variables: WxaVariables<User>
}

const MAX_TOKEN_LENGTH = 4096 // characters; ours are ~300
const AUTHORIZATION = /^(?:JWT|Bearer) +([\w-]+\.[\w-]+\.[\w-]+)$/i

/**
 * The token of an `Authorization: JWT <token>` (or `Bearer <token>`) header:
 * null when there is none, false when the header is not one of ours.
 */
export function readToken(header: string | undefined): string | null | false {
  if (header === undefined || header === '') return null
  if (header.length > MAX_TOKEN_LENGTH + 10) return false
  return AUTHORIZATION.exec(header)?.[1] ?? false
}

/**
 * Puts the user and the session on the context. It never rejects a request:
 * without a valid token `c.var.user` is null and the session is empty; use
 * `requireLogin()` to turn that into a 401.
 *
 * The session is read from this isolate's cache or the KV replica, and from
 * the user's session object only on a KV miss (or on every request with
 * `SESSION_CONSISTENCY=strict`). After the handler, what it changed in the
 * session is sent to the object, which applies it to the session as it is
 * then, or refuses it (the session ended, a newer token replaced this one):
 * then the request answers 401 instead. An unchanged session costs no write.
 *
 * @example
 * ```ts
 * const app = new Hono<WxaEnv>()
 * app.use(wxaSession())
 * app.get('/me', requireLogin(), (c) => c.json(c.var.user))
 * ```
 */
export function wxaSession<User extends { id: string } = DefaultUser>(
  options: WxaAuthOptions<User> = {},
) {
  const { config, hooks, now, log } = resolveOptions(options)

  return createMiddleware<WxaEnv<User>>(async function wxaSession(c, next) {
    c.set('user', null)
    c.set('session', new Session())
    c.set('authError', null)
    const token = readToken(c.req.header('Authorization'))
    if (token === null) return next()
    if (token === false) {
      c.set('authError', 'TOKEN_INVALID')
      return next()
    }

    const settings = config(c)
    const { secrets, issuer, audience, authority, replica } = settings
    const time = now()
    let claims: Awaited<ReturnType<typeof verifyToken>>
    try {
      claims = await verifyToken(await importKeyRing(secrets), token, {
        issuer,
        audience,
        now: time,
      })
    } catch (err) {
      if (!isWxaAuthError(err, 'TOKEN_INVALID', 'TOKEN_EXPIRED')) throw err
      c.set('authError', err.code)
      return next()
    }
    const uid = claims.sub
    const id = await hashSessionId(claims.sid)
    const gen = (claims.gen as number | undefined) ?? 0
    const presented = { sid: claims.sid, id, uid, gen, claims }
    const anonymous = (why: WxaErrorCode, session = new Session()) => {
      c.set('authError', why)
      c.set('session', session)
      return next()
    }

    if (replica.isEnded(id, time)) return anonymous('SESSION_EXPIRED')
    let record = settings.consistency === 'strict' ? null : await replica.get(uid, id)
    // A miss is a session not yet replicated here, or one that is over; a
    // replica older than the token missed a refresh. Only the object knows.
    if (!record || record.gen < gen) {
      record = await authority.read(uid, id, time)
      if (!record) {
        replica.ended(uid, id, claims.exp)
        return anonymous('SESSION_EXPIRED')
      }
      if (record.gen < gen) {
        // We minted that generation: the object lost what it had acknowledged. Fail closed.
        log.error(
          `wxa-auth: a token's generation (${gen}) is newer than its session object's (${record.gen}); refused`,
        )
        replica.forget(uid, id)
        return anonymous('SESSION_EXPIRED')
      }
      if (settings.consistency === 'edge') replica.remember(id, record)
    }
    if (record.uid !== uid || record.expiresAt <= time) return anonymous('SESSION_EXPIRED')
    // The refresh route tells reuse of a replaced token from a stale one by this session.
    if (gen < record.gen) return anonymous('TOKEN_REVOKED', new Session(presented))
    const session = new Session(presented, record)
    c.set('session', session)
    const user = await hooks.claimsToUser(claims, c)
    if (!user) return anonymous('SESSION_EXPIRED')
    c.set('user', user)

    await next()

    const change = c.error ? null : session.change()
    if (!change) return
    // Checked here too: data nested thousands deep would not even cross to the object.
    if (change.set.some(([, value]) => exceedsShape(value, MAX_SESSION_DEPTH - 1))) {
      throw new WxaAuthError('SESSION_TOO_LARGE')
    }
    const outcome = await authority.write(uid, id, gen, change, settings.policy, now())
    if (outcome.ok) {
      if (settings.consistency === 'edge') replica.remember(id, outcome.record)
      return
    }
    // Only "the session is over" is remembered as over; a stale write just drops the copy.
    if (outcome.over) replica.ended(uid, id, claims.exp)
    else replica.forget(uid, id)
    throw new WxaAuthError(outcome.refused)
  })
}
