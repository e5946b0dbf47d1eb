// The deployable Worker plus bench-only pieces that never ship: KV call
// counting (the Worker's and the session objects'), session-object call
// counting, the hono/jwt stateless peer of GET /me, strict mode, and
// in-isolate micro-benchmarks. Built by bench/run.mjs with bench/wrangler.toml.
import { Hono } from 'hono'
import { jwt } from 'hono/jwt'
import { createApp } from '../src/app'
import { configFromEnv, type WxaBindings, type WxaConfig } from '../src/config'
import { emulatorStub } from '../src/emulator/stub'
import { hashSessionId } from '../src/session/ids'
import { UserSessions } from '../src/session/object'
import { verifyToken } from '../src/token/jwt'
import { importKeyRing } from '../src/token/keys'
import { decryptData } from '../src/wechat/crypto'
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

// The deployable configuration, built from the env with its KV counted; and
// the same with the in-isolate session cache off, to show what a KV read costs.
const configs = new WeakMap<object, WxaConfig>()
const uncachedConfigs = new WeakMap<object, WxaConfig>()
function configured(memo: WeakMap<object, WxaConfig>, vars: Partial<WxaBindings>) {
  return (env: WxaBindings): WxaConfig => {
    let hit = memo.get(env)
    if (!hit) {
      const base = configFromEnv({ ...env, ...vars, SESSIONS: counted(env.SESSIONS) })
      hit = { ...base, authority: countingCalls(base.authority, objectCalls) }
      memo.set(env, hit)
    }
    return hit
  }
}
const config = configured(configs, {})
const uncached = configured(uncachedConfigs, { SESSION_CACHE_SECONDS: '0' })
const strict = configured(new WeakMap(), { SESSION_CONSISTENCY: 'strict' })

const app = new Hono<{ Bindings: WxaBindings & { JWT_SECRET: string } }>()

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

// In-isolate loops; the caller times the request from outside (workerd's
// clocks do not advance during CPU work). Each loop skips the caches that
// would otherwise answer it: a fresh key-ring object for verify, the
// uncached replica for load.
app.post('/bench/micro/:op', async (c) => {
  const op = c.req.param('op')
  const n = Number(c.req.query('n') ?? 1000)
  const { token } = (await c.req.json()) as { token: string }
  const settings = uncached(c.env)
  const ring = await importKeyRing(settings.secrets)
  const now = Math.floor(Date.now() / 1000)
  const options = { issuer: settings.issuer, audience: settings.audience, now }
  const claims = await verifyToken(ring, token, options)
  const sidHash = await hashSessionId(claims.sid)
  const record = await settings.replica.get(claims.sub, sidHash)
  if (!record) return c.json({ error: 'no session' }, 400)
  const sealed = await emulatorStub(c.env)
    .fetch('http://emulator/__emulator/user-data', {
      method: 'POST',
      body: JSON.stringify({ openid: record.openid, data: { nickName: 'bench' } }),
    })
    .then((r) => r.json<{ encryptedData: string; iv: string }>())
  const identity = await settings.identities.get(record.appId, record.openid)
  const sessionKey = identity?.sessionKey as string
  for (let i = 0; i < n; i++) {
    if (op === 'verify') await verifyToken({ ...ring }, token, options)
    else if (op === 'load') await settings.replica.get(claims.sub, sidHash)
    else if (op === 'save') {
      const change = { set: [['i', i]] as [string, unknown][], delete: [] }
      await settings.authority.write(claims.sub, sidHash, record.gen, change, settings.policy, now)
    } else if (op === 'decrypt') await decryptData({ ...sealed, sessionKey, appId: record.appId })
    else return c.json({ error: 'unknown op' }, 400)
  }
  return c.json({ ok: true, n })
})

app.route('/nocache', createApp({ config: uncached }))
app.route('/strict', createApp({ config: strict }))
app.route('/', createApp({ config }))

// The emulator's control surface, as in the dev Worker.
app.all('/__emulator/*', (c) => emulatorStub(c.env).fetch(c.req.raw))

export default app
export { WeChatEmulator } from '../src/emulator/emulator'
