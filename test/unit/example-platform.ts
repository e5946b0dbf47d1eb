// The platform of the operators' unit tests (operators-flows, admin-api): codes
// `code-<openid>` with a unionid `un-<code>`, phone codes `phone-<number>`, a
// content check refusing "bad", and a push route that forgets a user.
import type { PlatformDefinition } from '../../src/platforms/platform'

/** A random 256-bit secret, base64url. */
export const secret = () =>
  Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')

/** A platform of codes `code-<openid>`, phone codes `phone-<number>`, and a content check refusing "bad". */
export const example: PlatformDefinition<'example'> = {
  name: 'example',
  apps(vars) {
    const appId = typeof vars.EXAMPLE_APP_ID === 'string' ? vars.EXAMPLE_APP_ID : undefined
    if (!appId) return []
    return [
      {
        platform: 'example',
        appId,
        async code2Session({ code }) {
          return { openid: code.replace(/^code-/, ''), unionid: `un-${code}` }
        },
        async phone(code) {
          const number = code.replace(/^phone-/, '')
          return { phoneNumber: number, purePhoneNumber: number, countryCode: '86' }
        },
        async checkText(text) {
          return text.includes('bad') ? 'risky' : 'pass'
        },
      },
    ]
  },
  logins: { code: { input: {} } },
  routes(routes, context) {
    routes.post('/events', async (c) => {
      const { appId, openid } = await c.req.json<{ appId: string; openid: string }>()
      await context.forget(c, { platform: 'example', appId, openid })
      return c.text('success')
    })
  },
}
