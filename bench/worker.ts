// The deployable Worker plus bench-only pieces that never ship: counters of
// what Cloudflare bills (KV calls, session-object requests and their active
// time, the objects' SQLite rows and alarms, R2 operations), the hono/jwt
// peers of GET /me (stateless, and with a KV read of the session), strict
// mode, the session cache off (for cold tokens), and distinct tokens of a
// session. WeChat is the Node emulator over HTTP (WECHAT_API_BASE), so that
// its work is not counted in this Worker's CPU. Built by bench/run.mjs with bench/wrangler.toml.
import { type Context, Hono } from 'hono'
import { jwt } from 'hono/jwt'
import { createApp } from '../src/app'
import type { WxaBindings } from '../src/env'
import { UserSessions } from '../src/runtime/cloudflare/object'
import { cloudflare } from '../src/runtime/cloudflare/runtime'
import type { RuntimeParts, WxaRuntime } from '../src/runtime/runtime'
import type { SessionAuthority } from '../src/session/authority'
import { hashSessionId } from '../src/session/ids'
import { sessionRecordKey } from '../src/storage/keys'
import { signToken, verifyToken } from '../src/token/jwt'
import { importKeyRing } from '../src/token/keys'
import { wxaAuth } from '../src/wxa-auth'
import { countingKv, type KvCounts } from '../test/counting-kv'

/** Everything counted since the last `GET /bench/counters`. */
const zero = () => ({
  /** Requests this Worker served (the counters' own aside). */
  requests: 0,
  kv: { get: 0, put: 0, delete: 0, list: 0 } as KvCounts,
  /** Calls to the session objects (each an RPC session: one billed request), and alarms run. */
  objectRequests: 0,
  /** Wall milliseconds some call to an object was in flight, per object, overlaps once. */
  objectActiveMs: 0,
  rowsRead: 0,
  rowsWritten: 0,
  /** `setAlarm()` calls: each is billed as a row written. */
  alarmsSet: 0,
  r2: { classA: 0, classB: 0, deletes: 0 },
  /** D1's billed rows (the directory and the audit log), from each result's `meta`. */
  d1: { rowsRead: 0, rowsWritten: 0 },
})
// One object for the bench's life: the counting proxies hold on to its parts.
const counts = zero()

/** What was counted, and zero again. */
function takeCounts() {
  const taken = structuredClone(counts)
  const fresh = zero()
  Object.assign(counts.kv, fresh.kv)
  Object.assign(counts.r2, fresh.r2)
  Object.assign(counts.d1, fresh.d1)
  Object.assign(counts, { ...fresh, kv: counts.kv, r2: counts.r2, d1: counts.d1 })
  return taken
}

const counted = (kv: KVNamespace) => countingKv(kv, counts.kv).kv

// R2's operation classes (https://developers.cloudflare.com/r2/pricing/): deletes are free.
const R2_CLASS: Record<string, 'classA' | 'classB' | 'deletes'> = {
  put: 'classA',
  list: 'classA',
  createMultipartUpload: 'classA',
  get: 'classB',
  head: 'classB',
  delete: 'deletes',
}

/** The AVATARS bucket with its operations counted by class. */
function countedBucket(bucket: R2Bucket | undefined): R2Bucket | undefined {
  if (!bucket) return bucket
  return new Proxy(bucket, {
    get(target, prop) {
      const value = Reflect.get(target, prop)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const kind = R2_CLASS[String(prop)]
        if (kind) counts.r2[kind]++
        return value.apply(target, args)
      }
    },
  })
}

/** Adds a D1 result's billed rows (https://developers.cloudflare.com/d1/platform/pricing/). */
function countResult<T>(result: T): T {
  const meta = (result as { meta?: { rows_read?: number; rows_written?: number } }).meta
  counts.d1.rowsRead += meta?.rows_read ?? 0
  counts.d1.rowsWritten += meta?.rows_written ?? 0
  return result
}

/** What each counted statement stands for: `batch` takes D1's own. */
const statements = new WeakMap<object, D1PreparedStatement>()

/** A statement whose `run` and `all` results are counted, bound or not. */
function countedStatement(statement: D1PreparedStatement): D1PreparedStatement {
  const counted = new Proxy(statement, {
    get(target, prop) {
      const value = Reflect.get(target, prop)
      if (typeof value !== 'function') return value
      if (prop === 'bind')
        return (...args: unknown[]) => countedStatement(value.apply(target, args))
      if (prop === 'run' || prop === 'all')
        return async (...args: unknown[]) => countResult(await value.apply(target, args))
      if (prop === 'first' || prop === 'raw')
        throw new Error(`bench: D1 ${prop}() has no meta to count; use all()`)
      return value.bind(target)
    },
  })
  statements.set(counted, statement)
  return counted
}

/** The DB binding with every statement's rows counted, in a batch too. */
function countedDb(db: D1Database | undefined): D1Database | undefined {
  if (!db) return db
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop)
      if (prop === 'prepare') return (query: string) => countedStatement(target.prepare(query))
      if (prop === 'batch')
        return async (list: D1PreparedStatement[]) => {
          const results = await target.batch(list.map((s) => statements.get(s) ?? s))
          for (const result of results) countResult(result)
          return results
        }
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/**
 * Counts the object's SQL rows (as `cursor.rowsRead` and `rowsWritten` count
 * them, what Cloudflare bills) and alarms set, on the state itself: the
 * object's base class takes no stand-in for it.
 */
function countIn(ctx: DurableObjectState) {
  const { storage } = ctx
  const { sql } = storage
  const exec = sql.exec.bind(sql)
  const setAlarm = storage.setAlarm.bind(storage)
  sql.exec = <T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]) => {
    const cursor = exec<T>(query, ...bindings)
    // The rules read their cursors to the end in the step that opened them.
    queueMicrotask(() => {
      counts.rowsRead += cursor.rowsRead
      counts.rowsWritten += cursor.rowsWritten
    })
    return cursor
  }
  storage.setAlarm = (...args) => {
    counts.alarmsSet++
    return setAlarm(...args)
  }
}

/** The session object with its KV, R2, SQL and alarm work counted with the Worker's. */
export class BenchUserSessions extends UserSessions {
  constructor(ctx: DurableObjectState, env: WxaBindings) {
    countIn(ctx)
    super(ctx, {
      ...env,
      SESSIONS: counted(env.SESSIONS),
      AVATARS: countedBucket(env.AVATARS) as R2Bucket,
    })
  }

  override async alarm() {
    counts.objectRequests++
    return super.alarm()
  }
}

/** Calls in flight per object (user id), and since when one was. */
const inFlight = new Map<string, { calls: number; since: number }>()

/**
 * The authority with each call counted as an object request and timed: the
 * object is active while any call to it is in flight (Cloudflare bills an
 * object's duration once however many requests it serves at a time). Wall
 * time seen from the caller, so an upper bound of the object's own.
 */
function timedAuthority(authority: SessionAuthority): SessionAuthority {
  return new Proxy(authority, {
    get(target, prop) {
      const method = Reflect.get(target, prop) as (...args: unknown[]) => Promise<unknown>
      return async (uid: string, ...rest: unknown[]) => {
        counts.objectRequests++
        const object = inFlight.get(uid) ?? { calls: 0, since: Date.now() }
        if (object.calls++ === 0) object.since = Date.now()
        inFlight.set(uid, object)
        try {
          return await method.apply(target, [uid, ...rest])
        } finally {
          if (--object.calls === 0) {
            counts.objectActiveMs += Date.now() - object.since
            inFlight.delete(uid)
          }
        }
      }
    },
  })
}

type BenchEnv = { Bindings: WxaBindings & { JWT_SECRET: string } }

/**
 * The Workers runtime with its billed work counted, and `vars` on top of the
 * env; `sessions` may stand in for the KV namespace.
 */
function counting(
  vars: Partial<WxaBindings>,
  sessions: (kv: KVNamespace) => KVNamespace = (kv) => kv,
): WxaRuntime<BenchEnv> {
  const base = cloudflare<BenchEnv>()
  const made = new WeakMap<object, RuntimeParts>()
  return {
    parts(c) {
      let parts = made.get(c.env)
      if (!parts) {
        const env = {
          ...c.env,
          ...vars,
          SESSIONS: counted(sessions(c.env.SESSIONS)),
          AVATARS: countedBucket(c.env.AVATARS),
          DB: countedDb(c.env.DB),
        }
        const inner = base.parts({ env } as Context<BenchEnv>)
        parts = {
          ...inner,
          key: c.env,
          authority: (deps) => timedAuthority(inner.authority(deps)),
        }
        made.set(c.env, parts)
      }
      return parts
    },
  }
}

const app = new Hono<BenchEnv>()

// After a short wait: the audit log's writes run after the answer (waitUntil), and count with their login.
app.get('/bench/counters', async (c) => {
  await new Promise((resolve) => setTimeout(resolve, 50))
  return c.json(takeCounts())
})
app.use(async (_c, next) => {
  counts.requests++
  await next()
})

// The peer: the same handler shape as GET /me behind hono/jwt's stateless
// verify, made per request as hono's docs do it with a secret from the env.
app.get(
  '/bench/stateless-me',
  (c, next) => jwt({ secret: c.env.JWT_SECRET, alg: 'HS256' })(c, next),
  (c) => {
    const payload = c.get('jwtPayload') as { sub: string }
    return c.json({ user: { id: payload.sub }, session: {} })
  },
)

// The stateful peer, as bench/peers/fastify.mjs is on Node: hono/jwt's
// verify, then one KV read of the session the token names (answered from
// memory, as /cold-own's), refused when absent or over.
const peerKv = { get: async (key: string) => peerSessions.get(key) ?? null }
app.get(
  '/bench/stateful-me',
  (c, next) => jwt({ secret: c.env.JWT_SECRET, alg: 'HS256' })(c, next),
  async (c) => {
    const { sub, sid } = c.get('jwtPayload') as { sub: string; sid: string }
    const stored = await peerKv.get(`peer:session:${sid}`)
    const session =
      stored === null ? null : (JSON.parse(stored) as { expiresAt: number; data: object })
    if (!session || session.expiresAt * 1000 <= Date.now()) {
      return c.json({ error: { code: 'TOKEN_INVALID' } }, 401)
    }
    return c.json({ user: { id: sub }, session: session.data })
  },
)

const main = wxaAuth({ runtime: counting({}) })

// `n` tokens of the given sessions, in turn, each with its own `iat`: the
// same session and claims, other bytes, so that each is verified afresh.
app.post('/bench/tokens', async (c) => {
  const { tokens, n } = await c.req.json<{ tokens: string[]; n: number }>()
  const settings = main.config(c)
  const ring = await importKeyRing(settings.secrets)
  const now = Math.floor(Date.now() / 1000)
  const options = { issuer: settings.issuer, audience: settings.audience, now }
  const claims = await Promise.all(tokens.map((token) => verifyToken(ring, token, options)))
  const minted: string[] = []
  for (let i = 0; i < n; i++) {
    const { iat, iss, aud, ...own } = claims[i % claims.length] as (typeof claims)[number]
    const lap = Math.floor(i / claims.length) + 1
    minted.push(await signToken(ring, own, { ...options, now: now - lap }))
  }
  return c.json({ tokens: minted })
})

// The sealed records of the given sessions, copied into this isolate's
// memory: a cold token's KV read without Miniflare's KV simulator, whose work
// in workerd production does not bill as this Worker's CPU (there it is a
// wait on the network).
let recordKeys: string[] = []
const copied = new Map<string, string>()
app.post('/bench/records', async (c) => {
  const { tokens } = await c.req.json<{ tokens: string[] }>()
  const settings = main.config(c)
  const ring = await importKeyRing(settings.secrets)
  const options = {
    issuer: settings.issuer,
    audience: settings.audience,
    now: Math.floor(Date.now() / 1000),
  }
  recordKeys = await Promise.all(
    tokens.map(async (token) => {
      const { sub, sid, exp } = await verifyToken(ring, token, options)
      peerSessions.set(`peer:session:${sid}`, peerRecord(sub, sid, exp, options.now))
      return sessionRecordKey(sub, await hashSessionId(sid))
    }),
  )
  for (const key of recordKeys) {
    const value = await c.env.SESSIONS.get(key)
    if (value !== null) copied.set(key, value)
  }
  return c.json({ keys: copied.size })
})
// Whether KV holds the session copy of the token's session (`Authorization:
// JWT <token>`): a login writes none, the session object writes it once the
// edge asks for the session (bench/run.mjs waits for them).
app.get('/bench/copy', async (c) => {
  const settings = main.config(c)
  const ring = await importKeyRing(settings.secrets)
  const token = c.req.header('authorization')?.replace(/^JWT /, '') ?? ''
  const { sub, sid } = await verifyToken(ring, token, {
    issuer: settings.issuer,
    audience: settings.audience,
    now: Math.floor(Date.now() / 1000),
  })
  const key = sessionRecordKey(sub, await hashSessionId(sid))
  return c.json({ copied: (await c.env.SESSIONS.get(key)) !== null })
})
// The stateful peer's sessions, as a hand-written Worker keeps them: plain
// JSON under the token's session id, the fields of wxa-auth's record, read
// from memory as /cold-own reads its copies.
const peerSessions = new Map<string, string>()
const peerRecord = (uid: string, sid: string, expiresAt: number, now: number) =>
  JSON.stringify({
    uid,
    appId: 'wx0000000000bench1',
    openid: `o${sid.slice(0, 27)}`,
    createdAt: now,
    createdAtMs: now * 1000,
    refreshedAt: now,
    expiresAt,
    gen: 0,
    device: { platform: 'ios', model: 'iPhone 15' },
    data: {},
  })
/** SESSIONS with its reads answered from the copies (anything else goes to KV). */
const copiedKv = (kv: KVNamespace): KVNamespace =>
  new Proxy(kv, {
    get(target, prop) {
      if (prop === 'get') return async (key: string) => copied.get(key) ?? target.get(key)
      const value = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })

app.route(
  '/cold',
  createApp({ runtime: counting({ SESSION_CACHE_SECONDS: '0' }) }) as unknown as Hono<BenchEnv>,
)
app.route(
  '/cold-own',
  createApp({
    runtime: counting({ SESSION_CACHE_SECONDS: '0' }, copiedKv),
  }) as unknown as Hono<BenchEnv>,
)
app.route(
  '/strict',
  createApp({ runtime: counting({ SESSION_CONSISTENCY: 'strict' }) }) as unknown as Hono<BenchEnv>,
)
// A burst: one HTTP request dispatched to this Worker's app once per token,
// one after the other, in the isolate. HTTP and Miniflare's entry cost the
// same for every burst of the same size: the difference between two bursts
// is the difference between what the app does for their paths.
app.post('/bench/burst', async (c) => {
  const {
    path,
    tokens,
    scheme = 'JWT',
  } = await c.req.json<{
    path: string
    tokens: string[]
    scheme?: string
  }>()
  const url = new URL(path, c.req.url)
  let failed = 0
  for (const token of tokens) {
    const headers = { authorization: `${scheme} ${token}` }
    const res = await app.fetch(new Request(url, { headers }), c.env, c.executionCtx)
    await res.arrayBuffer()
    if (!res.ok) failed++
  }
  return c.json({ failed }, failed ? 500 : 200)
})

app.route('/', createApp({ runtime: counting({}) }) as unknown as Hono<BenchEnv>)

export default app
