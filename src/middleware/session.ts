import type { Env, MiddlewareHandler } from 'hono'
import { createMiddleware } from 'hono/factory'
import { isWxaAuthError, WxaAuthError, type WxaErrorCode } from '../errors'
import type { DefaultUser } from '../hooks'
import type { ResolvedOptions } from '../options'
import { hashSessionId } from '../session/ids'
import { exceedsShape, MAX_SESSION_DEPTH } from '../session/limits'
import { Session } from '../session/session'
import { verifyToken } from '../token/jwt'
import { importKeyRing } from '../token/keys'

/** The context variables wxa-auth sets. */
export type WxaVariables<User = DefaultUser> = {
  /** The logged-in user, or null. */
  user: User | null
  /** The mutable session; empty and never written when anonymous. */
  session: Session
  /** Why the request is anonymous although it carried a token, for `requireLogin`. */
  authError: WxaErrorCode | null
}

/**
 * The Hono env of an app that uses wxa-auth: your own env (its `Bindings`,
 * its `Variables`) with wxa-auth's variables added.
 *
 * @example
 * ```ts
 * type AppEnv = WxaEnv<MyUser, { Bindings: WxaBindings & { DB: D1Database } }>
 * const app = new Hono<AppEnv>()
 * ```
 */
export type WxaEnv<User = DefaultUser, E extends Env = { Bindings: object }> = {
  Bindings: E extends { Bindings: infer B } ? B : object
  Variables: (E extends { Variables: infer V } ? V : object) & WxaVariables<User>
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
 * `requireLogin()` to turn that into a 401. After the handler, what it
 * changed in the session is sent to the session authority, which applies it
 * to the session as it is then, or refuses it (the session ended, a newer
 * token replaced this one): then the request answers 401 instead. An
 * unchanged session costs no write. Made by {@link wxaAuth}.
 * @internal
 */
export function sessionMiddleware<User extends { id: string }>(
  resolved: ResolvedOptions<User>,
): MiddlewareHandler<WxaEnv<User>> {
  const { config, hooks, now } = resolved
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
    const time = now()
    let claims: Awaited<ReturnType<typeof verifyToken>>
    try {
      claims = await verifyToken(await importKeyRing(settings.secrets), token, {
        issuer: settings.issuer,
        audience: settings.audience,
        now: time,
      })
    } catch (err) {
      if (!isWxaAuthError(err, 'TOKEN_INVALID', 'TOKEN_EXPIRED')) throw err
      c.set('authError', err.code)
      return next()
    }
    const gen = (claims.gen as number | undefined) ?? 0
    const presented = {
      sid: claims.sid,
      id: await hashSessionId(claims.sid),
      uid: claims.sub,
      gen,
      claims,
    }
    const anonymous = (why: WxaErrorCode, session: Session | undefined = new Session()) => {
      c.set('authError', why)
      c.set('session', session)
      return next()
    }

    const opened = await settings.sessions.open(presented, time)
    // A replaced token is refused as an ended one is; only logout still ends its session.
    if (!opened.ok)
      return anonymous(opened.refused, opened.replaced ? new Session(presented) : undefined)
    const session = new Session(presented, opened.record)
    c.set('session', session)
    const user = await hooks.claimsToUser(claims, c)
    if (!user) return anonymous('SESSION_EXPIRED')
    c.set('user', user)

    await next()

    const change = c.error ? null : session.change()
    if (!change) return
    // Checked here too: data nested thousands deep would not even cross to the authority.
    if (change.set.some(([, value]) => exceedsShape(value, MAX_SESSION_DEPTH - 1))) {
      throw new WxaAuthError('SESSION_TOO_LARGE')
    }
    const outcome = await settings.sessions.write(presented, change, now())
    if (!outcome.ok) throw new WxaAuthError(outcome.refused)
  })
}
