import type { Hono } from 'hono'
import * as v from 'valibot'
import { WxaAuthError } from '../../errors'
import { describe } from '../../openapi/describe'
import type { PlatformRoutesContext } from '../platform'

/** A 302: what the route answers, for the OpenAPI document. */
const Redirect = v.pipe(v.string(), v.description('Empty; the Location header is WeChat’s page.'))

/**
 * `GET /auth/wechat/authorize?appId&redirectUri&scope`: the browser flows'
 * start. Answers 302 to WeChat's authorize page (an Official Account's
 * `/connect/oauth2/authorize`, a website's `/connect/qrconnect`; in
 * development the emulator's consent page) with a fresh state, single-use
 * and bound to the app, the redirect URI and the scope. A redirect URI off
 * `WECHAT_REDIRECT_URIS` is 400 `REDIRECT_URI_INVALID`: no open redirect.
 */
export function wechatAuthRoutes(routes: Hono, context: PlatformRoutesContext<unknown>): void {
  routes.get(
    '/authorize',
    describe({
      tag: 'auth',
      summary: 'Start a WeChat login in a browser (Official Account page, website QR)',
      description:
        'Answers 302 to WeChat’s authorize page for the app (an Official Account: /connect/oauth2/authorize; a website app: /connect/qrconnect) with a state that is single-use, lives 10 minutes, and is bound to the app, the redirect URI and the scope. WeChat sends the user back to redirectUri with code and state; that page posts { code, state, appId } to /auth/login.',
      auth: false,
      parameters: [
        { name: 'appId', in: 'query', required: true, description: 'An OA or website AppID.' },
        {
          name: 'redirectUri',
          in: 'query',
          required: true,
          description: 'A page of WECHAT_REDIRECT_URIS (same origin and path).',
        },
        {
          name: 'scope',
          in: 'query',
          required: false,
          description:
            'snsapi_base or snsapi_userinfo (Official Account; default snsapi_base); snsapi_login (website, the default).',
          schema: { enum: ['snsapi_base', 'snsapi_userinfo', 'snsapi_login'] },
        },
      ],
      response: Redirect,
      errors: ['UNKNOWN_APP', 'NOT_OFFERED', 'REDIRECT_URI_INVALID', 'INVALID_REQUEST'],
    }),
    async (c) => {
      const { apps, now } = context.request(c)
      const { appId = '', redirectUri = '', scope } = c.req.query()
      const app = apps.get(appId)
      if (!app) throw new WxaAuthError('UNKNOWN_APP')
      if (!app.authorize) throw new WxaAuthError('NOT_OFFERED')
      if (redirectUri.length > 1024) throw new WxaAuthError('REDIRECT_URI_INVALID')
      const location = await app.authorize({
        redirectUri,
        scope: scope ?? (app.door === 'web' ? 'snsapi_login' : 'snsapi_base'),
        now,
        emulatorBase: new URL('/__emulator', c.req.url).href,
      })
      c.header('Cache-Control', 'no-store')
      c.header('Referrer-Policy', 'no-referrer')
      return c.redirect(location, 302)
    },
  )
}
