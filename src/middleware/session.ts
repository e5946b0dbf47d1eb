import { createMiddleware } from 'hono/factory'
import { hashSessionId, resolveOptions, type WxaAuthOptions } from '../auth'
import type { WxaBindings } from '../config'
import { isWxaAuthError, WxaAuthError, type WxaErrorCode } from '../errors'
import type { DefaultUser } from '../hooks'
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

/** The Hono env of apps that use wxa-auth. */
export type WxaEnv<User = DefaultUser> = {
  Bindings: WxaBindings
  Variables: WxaVariables<User>
}

const encoder = new TextEncoder()
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
 * `requireLogin()` to turn that into a 401. After the handler, a changed
 * session is written back to KV (awaited); an unchanged one costs no write.
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
  const { config, hooks, now } = resolveOptions(options)

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

    const { secrets, issuer, audience, store, maxSessionBytes } = config(c)
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
    const sidHash = await hashSessionId(claims.sid)
    const record = await store.getSession(claims.sub, sidHash)
    if (!record || record.uid !== claims.sub || record.expiresAt <= time) {
      c.set('authError', 'SESSION_EXPIRED')
      return next()
    }
    // `>=`, not `===`: when a data write-back races a refresh and lands last,
    // the refreshed token still works; older tokens stay rejected.
    if (((claims.gen as number | undefined) ?? 0) < (record.gen ?? 0)) {
      c.set('authError', 'TOKEN_REVOKED')
      return next()
    }
    const session = new Session(claims.sid, sidHash, record)
    c.set('session', session)
    const user = await hooks.claimsToUser(claims, c)
    if (!user) {
      c.set('session', new Session())
      c.set('authError', 'SESSION_EXPIRED')
      return next()
    }
    c.set('user', user)

    await next()

    const changed = c.error ? null : session.changedRecord()
    if (!changed) return
    if (encoder.encode(JSON.stringify(changed.data)).length > maxSessionBytes) {
      throw new WxaAuthError('SESSION_TOO_LARGE')
    }
    await store.putSession(sidHash, changed)
  })
}
