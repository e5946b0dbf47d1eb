// The deployable Worker plus bench-only pieces that never ship: KV call
// counting (the Worker's and the session objects'), session-object call
// counting, the hono/jwt stateless peer of GET /me, strict mode, and
// in-isolate micro-benchmarks. Built by bench/run.mjs with bench/wrangler.toml.
import { type Context, Hono } from 'hono'
import { jwt } from 'hono/jwt'
import { createApp } from '../src/app'
import { wxaAuth } from '../src/auth'
import { emulatorStub } from '../src/emulator/stub'
import { emulatorUpstream } from '../src/emulator/upstream'
import type { WxaBindings } from '../src/env'
import { decryptData } from '../src/platforms/data-crypto'
import { UserSessions } from '../src/runtime/cloudflare/object'
import { cloudflare } from '../src/runtime/cloudflare/runtime'
import type { RuntimeParts, WxaRuntime } from '../src/runtime/runtime'
import { hashSessionId } from '../src/session/ids'
import { verifyToken } from '../src/token/jwt'
import { importKeyRing } from '../src/token/keys'
import { countingCalls, countingKv } from '../test/counting-kv'

const counts = { get: 0, put: 0, delete: 0, list: 0 }
const objectCalls = { calls: 0 }
const counted = (kv: KVNamespace) => countingKv(kv, counts).kv

/** The session object with its KV replica writes counted with the Worker's. */
export class BenchUserSessions extends UserSessions {
  constructor(ctx: DurableObjectState, env: WxaBindings) {
    super(ctx, { ...env, SESSIONS: counted(env.SESSIONS) })
  }
}

type BenchEnv = { Bindings: WxaBindings & { JWT_SECRET: string } }

/** The Workers runtime with its KV and object calls counted, and `vars` on top of the env. */
function counting(vars: Partial<WxaBindings>): WxaRuntime<BenchEnv> {
  const base = cloudflare<BenchEnv>()
  const made = new WeakMap<object, RuntimeParts>()
  return {
    parts(c) {
      let parts = made.get(c.env)
      if (!parts) {
        const env = { ...c.env, ...vars, SESSIONS: counted(c.env.SESSIONS) }
        const inner = base.parts({ env } as Context<BenchEnv>)
        parts = {
          ...inner,
          key: c.env,
          authority: (deps) => countingCalls(inner.authority(deps), objectCalls),
        }
        made.set(c.env, parts)
      }
      return parts
    },
  }
}

const app = new Hono<BenchEnv>()

app.get('/bench/counters', (c) => {
  const snapshot = { ...counts, objects: objectCalls.calls }
  Object.assign(counts, { get: 0, put: 0, delete: 0, list: 0 })
  objectCalls.calls = 0
  return c.json(snapshot)
})

// The peer: the same handler shape as GET /me behind hono/jwt's stateless verify.
app.get(
  '/bench/stateless-me',
  (c, next) => jwt({ secret: c.env.JWT_SECRET, alg: 'HS256' })(c, next),
  (c) => {
    const payload = c.get('jwtPayload') as { sub: string }
    return c.json({ user: { id: payload.sub }, session: {} })
  },
)

const uncachedApp = createApp({
  runtime: counting({ SESSION_CACHE_SECONDS: '0' }),
  upstream: emulatorUpstream(),
})
const strictApp = createApp({
  runtime: counting({ SESSION_CONSISTENCY: 'strict' }),
  upstream: emulatorUpstream(),
})
const mainApp = createApp({ runtime: counting({}), upstream: emulatorUpstream() })

// In-isolate loops; the caller times the request from outside (workerd's
// clocks do not advance during CPU work). Each loop skips the caches that
// would otherwise answer it: a fresh key-ring object for verify, the
// uncached configuration for load.
const micro = wxaAuth({
  runtime: counting({ SESSION_CACHE_SECONDS: '0' }),
  upstream: emulatorUpstream(),
})

app.post('/bench/micro/:op', async (c) => {
  const op = c.req.param('op')
  const n = Number(c.req.query('n') ?? 1000)
  const { token } = (await c.req.json()) as { token: string }
  const settings = micro.config(c)
  const ring = await importKeyRing(settings.secrets)
  const now = Math.floor(Date.now() / 1000)
  const options = { issuer: settings.issuer, audience: settings.audience, now }
  const claims = await verifyToken(ring, token, options)
  const presented = {
    uid: claims.sub,
    id: await hashSessionId(claims.sid),
    gen: Number(claims.gen ?? 0),
  }
  const opened = await settings.sessions.open(presented, now)
  if (!opened.ok) return c.json({ error: 'no session' }, 400)
  const record = opened.record
  const sealed = await emulatorStub(c.env as never)
    .fetch('http://emulator/__emulator/user-data', {
      method: 'POST',
      body: JSON.stringify({ openid: record.openid, data: { nickName: 'bench' } }),
    })
    .then((r) => r.json<{ encryptedData: string; iv: string }>())
  const identity = await settings.identities.get(record.appId, record.openid)
  const sessionKey = identity?.sessionKey as string
  for (let i = 0; i < n; i++) {
    if (op === 'verify') await verifyToken({ ...ring }, token, options)
    else if (op === 'load') await settings.sessions.open(presented, now)
    else if (op === 'save') {
      const change = { set: [['i', i]] as [string, unknown][], delete: [] }
      await settings.sessions.write(presented, change, now)
    } else if (op === 'decrypt') await decryptData({ ...sealed, sessionKey, appId: record.appId })
    else return c.json({ error: 'unknown op' }, 400)
  }
  return c.json({ ok: true, n })
})

app.route('/nocache', uncachedApp as never)
app.route('/strict', strictApp as never)
app.route('/', mainApp as never)

// The emulator's control surface, as in the dev Worker.
app.all('/__emulator/*', (c) => emulatorStub(c.env as never).fetch(c.req.raw))

export default app
export { WeChatEmulator } from '../src/emulator/emulator'
