import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import * as v from 'valibot'
import { WxaAuthError } from '../errors'
import { avatarObject, getProfile, type ProfileInput, setProfile } from '../flows/profile'
import { limits } from '../middleware/rate-limit'
import { requireLogin } from '../middleware/require-login'
import type { WxaEnv } from '../middleware/session'
import { describe, UPSTREAM_CALL_ERRORS } from '../openapi/describe'
import { toJsonSchema } from '../openapi/json-schema'
import type { ResolvedOptions } from '../options'
import { Hono } from '../util/hono'
import { parseJson } from '../util/json'
import { flowContext } from './flow-context'
import { AvatarAnswer, ProfileBody, ProfileResponse } from './schemas'

const FORM_OVERHEAD = 16 * 1024 // bytes of a multipart body beyond the avatar itself
const CACHED_FOR = 365 * 24 * 60 * 60 // a year, seconds: an avatar's URL never changes its bytes

/** What `wx.uploadFile` sends: the file field `avatar`, the form field `nickname`. */
const multipart = {
  type: 'object',
  properties: {
    avatar: { type: 'string', format: 'binary', description: 'PNG, JPEG or WebP, by its bytes.' },
    nickname: { type: 'string', description: 'As in the JSON body.' },
  },
}

/** The request's profile change, from multipart (an upload) or JSON (the nickname alone). */
async function readInput(c: Parameters<MiddlewareHandler>[0]): Promise<ProfileInput> {
  const type = c.req.header('Content-Type') ?? ''
  if (/^multipart\/form-data/i.test(type)) {
    let form: Record<string, string | File>
    try {
      form = (await c.req.parseBody()) as Record<string, string | File>
    } catch {
      throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: the form could not be read.')
    }
    const { avatar, nickname } = form
    if (avatar !== undefined && typeof avatar === 'string') {
      throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: body.avatar must be a file.')
    }
    return {
      ...(avatar ? { avatar: new Uint8Array(await avatar.arrayBuffer()) } : {}),
      ...(typeof nickname === 'string' ? { nickname } : {}),
    }
  }
  if (/^application\/json/i.test(type)) {
    let body: unknown
    try {
      body = parseJson(await c.req.text())
    } catch (err) {
      if (err instanceof WxaAuthError) throw err
      throw new WxaAuthError('INVALID_JSON')
    }
    const parsed = v.safeParse(ProfileBody, body)
    if (!parsed.success) {
      throw new WxaAuthError('INVALID_REQUEST', 'Invalid request: body.nickname must be a string.')
    }
    return { nickname: parsed.output.nickname }
  }
  throw new WxaAuthError(
    'INVALID_REQUEST',
    'Invalid request: send multipart/form-data (wx.uploadFile) or application/json.',
  )
}

/**
 * The profile routes: `GET` and `PUT` (or `POST`, as `wx.uploadFile` sends
 * it) `/profile`, and the avatars at `/avatars/{key}`. @internal
 */
export function profileRoutes<User extends { id: string }>(resolved: ResolvedOptions<User>) {
  const routes = new Hono<WxaEnv<User>>()
  const { userLimit } = limits(resolved)
  // The avatar's limit plus the form around it, from the configuration of the request.
  const limitUpload: MiddlewareHandler = (c, next) =>
    bodyLimit({
      maxSize: resolved.config(c).maxAvatarBytes + FORM_OVERHEAD,
      onError: () => {
        throw new WxaAuthError('AVATAR_TOO_LARGE')
      },
    })(c, next)

  routes.get(
    '/profile',
    describe({
      tag: 'profile',
      summary: 'The user’s profile: the nickname and the avatar they filled in',
      auth: true,
      response: ProfileResponse,
      errors: [],
    }),
    requireLogin(),
    async (c) => {
      const profile = await getProfile(
        flowContext(resolved, c),
        c.var.session,
        new URL(c.req.url).origin,
      )
      c.header('Cache-Control', 'no-store')
      return c.json({ profile })
    },
  )

  const update = describe({
    tag: 'profile',
    summary: 'Set the nickname and/or the avatar',
    description:
      'multipart/form-data as wx.uploadFile sends it (file field avatar, form field nickname), or JSON {nickname}. The nickname passes the platform’s text check first; the avatar is checked by its bytes and size, then by the platform’s asynchronous image check, whose risky verdict deletes it.',
    auth: true,
    content: {
      'multipart/form-data': multipart,
      'application/json': toJsonSchema(ProfileBody),
    },
    response: ProfileResponse,
    errors: [
      'INVALID_JSON',
      'INVALID_REQUEST',
      'RATE_LIMITED',
      'UNKNOWN_APP',
      'NOT_OFFERED',
      'NICKNAME_INVALID',
      'NICKNAME_RISKY',
      'AVATAR_INVALID',
      'AVATAR_TOO_LARGE',
      'ACCESS_TOKEN_INVALID',
      ...UPSTREAM_CALL_ERRORS,
    ],
  })
  const put = async (c: Parameters<MiddlewareHandler<WxaEnv<User>>>[0]) => {
    const input = await readInput(c)
    if (input.nickname === undefined && input.avatar === undefined) {
      throw new WxaAuthError(
        'INVALID_REQUEST',
        'Invalid request: send a nickname, an avatar or both.',
      )
    }
    const profile = await setProfile(
      flowContext(resolved, c),
      c.var.session,
      input,
      new URL(c.req.url).origin,
    )
    c.header('Cache-Control', 'no-store')
    return c.json({ profile })
  }
  routes.put('/profile', update, requireLogin(), userLimit, limitUpload, put)
  routes.post('/profile', update, requireLogin(), userLimit, limitUpload, put)

  routes.get(
    '/avatars/:key',
    describe({
      tag: 'profile',
      summary: 'An avatar, by the key its URL names',
      description:
        'Public and unguessable; cached for a year, since its bytes never change under a key. 404 once it is deleted (replaced, withdrawn, checked risky, the account gone).',
      auth: false,
      parameters: [{ name: 'key', in: 'path', description: 'The random key in avatarUrl.' }],
      response: AvatarAnswer,
      responseType: 'image/*',
      errors: ['NOT_FOUND'],
    }),
    async (c) => {
      const found = await avatarObject(flowContext(resolved, c), c.req.param('key'))
      return c.body(found.body as ReadableStream, 200, {
        'Content-Type': found.type,
        'Content-Length': String(found.size),
        'Cache-Control': `public, max-age=${CACHED_FOR}, immutable`,
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': "default-src 'none'",
      })
    },
  )
  return routes
}
