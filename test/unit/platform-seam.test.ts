// The platform seam, proven with a fifth platform that exists only here:
// `example` is one definition (its apps, a login kind with a field of its
// own, no session key, and a push route that forgets a user), added to the
// registry's through `platforms`. Nothing else of wxa-auth is told of it.
import { Hono } from 'hono'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { describe as describeRoute } from '../../src/openapi/describe'
import { PLATFORM_NAMES, PLATFORMS } from '../../src/platforms/index'
import type { LoginCode, PlatformDefinition } from '../../src/platforms/platform'
import { memoryRuntime } from '../../src/runtime/memory/index'
import { wxaAuth } from '../../src/wxa-auth'
import { secret } from './example-platform'

/** What the example platform's code2Session was handed, in order. */
const exchanged: LoginCode[] = []

/** A platform of codes `code-<openid>`, without a session key, like Alipay's. */
const example: PlatformDefinition<'example'> = {
  name: 'example',
  apps(vars) {
    const appId = typeof vars.EXAMPLE_APP_ID === 'string' ? vars.EXAMPLE_APP_ID : undefined
    if (!appId) return []
    return [
      {
        platform: 'example',
        appId,
        async code2Session(login) {
          exchanged.push(login)
          return { openid: login.code.replace(/^code-/, '') }
        },
      },
    ]
  },
  logins: {
    code: {
      input: { ticket: v.optional(v.pipe(v.string(), v.description('Example: a ticket.'))) },
    },
  },
  routes(routes, context) {
    routes.post(
      '/events',
      describeRoute({
        tag: 'example',
        summary: 'An example platform’s cancellation',
        auth: false,
        response: v.literal('success'),
        responseType: 'text/plain',
        errors: ['UNKNOWN_APP'],
      }),
      async (c) => {
        const { appId, openid } = await c.req.json<{ appId: string; openid: string }>()
        const { apps } = context.request(c)
        if (!apps.has(appId)) return c.text('unknown app', 404)
        await context.forget(c, { platform: 'example', appId, openid })
        return c.text('success')
      },
    )
  },
}

function exampleApp() {
  const runtime = memoryRuntime({
    JWT_SECRET: secret(),
    STORAGE_SECRET: secret(),
    EXAMPLE_APP_ID: 'ex-app',
  })
  return createApp({ runtime, platforms: [...PLATFORMS, example] })
}

const post = (app: ReturnType<typeof exampleApp>, path: string, body: unknown, token?: string) =>
  app.request(path, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `JWT ${token}` } : {}),
    },
    body: JSON.stringify(body),
  })

describe('a platform is its definition and one line in the registry', () => {
  it('logs in through its own login kind, with its own field', async () => {
    const app = exampleApp()
    const res = await post(app, '/auth/login', { code: 'code-alice', ticket: 't-1' })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { user: { platform: string; openid: string } }
    expect(body.user).toMatchObject({ platform: 'example', openid: 'alice' })
    expect(exchanged.at(-1)).toEqual({ code: 'code-alice', ticket: 't-1' })
  })

  it('without a session key, the data routes and user info answer NOT_OFFERED', async () => {
    const app = exampleApp()
    const { token } = (await (await post(app, '/auth/login', { code: 'code-bob' })).json()) as {
      token: string
    }
    const decrypt = await post(app, '/auth/decrypt', { encryptedData: 'AAAA', iv: 'AAAA' }, token)
    expect(decrypt.status).toBe(400)
    expect(((await decrypt.json()) as { error: { code: string } }).error.code).toBe('NOT_OFFERED')
    const withInfo = await post(app, '/auth/login', {
      code: 'code-bob',
      rawData: '{}',
      signature: 'x',
    })
    expect(((await withInfo.json()) as { error: { code: string } }).error.code).toBe('NOT_OFFERED')
  })

  it('serves its routes, which forget a user through the context', async () => {
    const app = exampleApp()
    const login = (await (await post(app, '/auth/login', { code: 'code-carol' })).json()) as {
      refreshToken: string
    }
    const pushed = await post(app, '/example/events', { appId: 'ex-app', openid: 'carol' })
    expect(pushed.status).toBe(200)
    expect(await pushed.text()).toBe('success')
    const refreshed = await post(app, '/auth/refresh', { refreshToken: login.refreshToken })
    expect(refreshed.status).toBe(401)
    // WeChat's route is there too, and still answers 404 without its Token.
    expect((await app.request('/wechat/events')).status).toBe(404)
  })

  it('is in the OpenAPI document: its route, and its login field', async () => {
    const doc = (await (await exampleApp().request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { tags: string[]; requestBody?: unknown }>>
    }
    expect(doc.paths['/example/events']?.post?.tags).toEqual(['example'])
    expect(JSON.stringify(doc.paths['/auth/login']?.post?.requestBody)).toContain('ticket')
    expect(doc.paths['/wechat/events']).toBeDefined()
  })

  it('the registry itself is unchanged: PlatformName is its names', () => {
    expect(PLATFORM_NAMES).toEqual(['wechat', 'douyin', 'qq', 'alipay'])
  })

  it('0.3’s auth.events still serves WeChat’s push when mounted at /wechat', async () => {
    const hex = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')
    const auth = wxaAuth({
      runtime: memoryRuntime({
        JWT_SECRET: secret(),
        STORAGE_SECRET: secret(),
        WECHAT_APP_ID: 'wx0123456789abcdef',
        WECHAT_APP_SECRET: hex,
        WECHAT_EVENT_TOKEN: hex,
      }),
    })
    const app = new Hono()
    app.onError(auth.onError)
    app.route('/wechat', auth.events)
    const res = await app.request('/wechat/events?signature=0&timestamp=1&nonce=n&echostr=e')
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'WECHAT_EVENT_SIGNATURE_INVALID',
    )
  })
})
