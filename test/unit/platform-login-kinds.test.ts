// The seam's extensions for doors beyond a mini program code, proven with a
// platform that exists only here: an app whose code goes through a login kind
// of its own (with a replay window), whose sessions carry a door, whose user
// info comes from the platform, and routes of its own under /auth/<name>.
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { describe as describeRoute } from '../../src/openapi/describe'
import { PLATFORMS } from '../../src/platforms/index'
import type { PlatformDefinition } from '../../src/platforms/platform'
import { memoryRuntime } from '../../src/runtime/memory/index'

const secret = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')

/** Codes exchanged so far: a second exchange of one code fails, as WeChat's 40163. */
const spent = new Set<string>()

const web: PlatformDefinition<'web'> = {
  name: 'web',
  apps: () => [
    {
      platform: 'web',
      appId: 'web-app',
      loginKind: 'redirect',
      door: 'web',
      async code2Session({ code, nonce }) {
        if (spent.has(code)) throw new Error('code used')
        spent.add(code)
        return { openid: `${code}-${String(nonce)}`, userInfo: { nickName: code } }
      },
    },
  ],
  logins: {
    code: { input: {} },
    redirect: { input: { nonce: v.optional(v.string()) }, replay: 60 },
  },
  authRoutes(routes) {
    routes.get(
      '/start',
      describeRoute({
        tag: 'auth',
        summary: 'An example redirect',
        auth: false,
        response: v.string(),
        errors: [],
      }),
      (c) => c.redirect('https://example.com/consent', 302),
    )
  },
}

const app = () =>
  createApp({
    runtime: memoryRuntime({ JWT_SECRET: secret(), STORAGE_SECRET: secret(), WEB_APP_ID: 'x' }),
    platforms: [...PLATFORMS.filter(({ name }) => name !== 'wechat'), web],
  })

const post = (server: ReturnType<typeof app>, body: unknown) =>
  server.request('/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })

describe('login kinds beyond the mini program code', () => {
  it('takes the fields of the app’s own kind, marks the door, hands the user info on', async () => {
    const server = app()
    const res = await post(server, { code: 'c1', nonce: 'n1', appId: 'web-app' })
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      user: { openid: string }
      userInfo: unknown
      token: string
    }
    expect(body.user.openid).toBe('c1-n1')
    expect(body.userInfo).toEqual({ nickName: 'c1' })
    const list = await server.request('/auth/sessions', {
      headers: { Authorization: `JWT ${body.token}` },
    })
    const { sessions } = (await list.json()) as { sessions: { device: { door?: string } }[] }
    expect(sessions[0]?.device.door).toBe('web')
  })

  it('a code posted again within the kind’s window gets the first answer', async () => {
    const server = app()
    const first = (await (await post(server, { code: 'c2', appId: 'web-app' })).json()) as {
      token: string
    }
    const again = (await (await post(server, { code: 'c2', appId: 'web-app' })).json()) as {
      token: string
    }
    expect(again.token).toBe(first.token)
  })

  it('serves the platform’s auth routes under /auth/<name>, in the OpenAPI document', async () => {
    const server = app()
    const res = await server.request('/auth/web/start')
    expect(res.status).toBe(302)
    const doc = (await (await server.request('/openapi.json')).json()) as {
      paths: Record<string, unknown>
    }
    expect(doc.paths['/auth/web/start']).toBeDefined()
  })
})
