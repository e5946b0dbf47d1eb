// A bounded, seeded, random and concurrent workload over a cluster's
// endpoints: logins of a small pool of users (so that MAX_SESSIONS is hit),
// session writes with unique keys, reads, refreshes by refresh token (with
// replaced refresh tokens too, one from two endpoints at once, and answers
// lost and sent again at once), a thief refreshing with an access token,
// logouts, device revocations and logout-alls, bans and unbans by an operator (with
// `adminKey`), with a crash halfway; then every session read through the strict endpoint. It records every request in a {@link History}.
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Cluster, Crash, Endpoint } from './cluster'
import type { History, Op, OpKind, Outcome, TokenRef } from './history'

export interface WorkloadOptions {
  seed: number
  /** Random operations in all, the crash after half of them. */
  operations: number
  /** Clients running at once. @default 6 */
  clients?: number
  /**
   * Users who come and go: logins without limit (so the cap ends sessions),
   * logouts, revocations, logout-all, refreshes of old tokens. @default 4
   */
  busyUsers?: number
  /**
   * Users who log in MAX_SESSIONS times only and end nothing: they read,
   * write (with replaced tokens too) and refresh their newest tokens, from
   * two endpoints at once too. With the refresh grace their sessions all
   * survive; without it (0.2) a refresh that loses the race ends one. @default 2
   */
  calmUsers?: number
  /**
   * Like calm users, but one refresh per user at a time: their sessions
   * survive whatever the grace, so every acknowledged write of theirs must be
   * in the final read. @default 2
   */
  steadyUsers?: number
  /** The most a client pauses between two operations, milliseconds. @default 200 */
  thinkMs?: number
  /** Kill and restart the cluster after half the operations. @default true */
  crash?: boolean
  /** Milliseconds before an unanswered request is given up. @default 10000 */
  timeoutMs?: number
  /** Operations started together just before the kill. @default 16 */
  burstSize?: number
  /**
   * WeChat's other doors, where the cluster configures them (with
   * `IDENTITY=unionid`, so that every door of a user is that one user): a
   * user's logins go in turn through the mini program, an Official Account
   * page (the state of `/auth/wechat/authorize`, a code of the emulator) and
   * an App (a SendAuth code of the emulator).
   */
  doors?: { oa: string; mobile: string; redirectUri: string }
  /**
   * A key of the servers' `ADMIN_KEYS`: an operator then bans a busy user now
   * and then through the admin API, and unbans them a few seconds later.
   */
  adminKey?: string
}

/** Mulberry32: a small seeded generator, good enough to pick operations. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface User {
  openid: string
  kind: 'busy' | 'calm' | 'steady'
  /** The user id, from their first login's answer (what the admin API names). */
  uid?: string
  /** An operator's ban of them is under way or in place. */
  banned?: boolean
  logins: number
  sessions: Known[]
}

/** A session as the clients know it. */
interface Known {
  id: string
  user: User
  /** Access token by generation. */
  tokens: Map<number, string>
  /** Refresh token by generation (the one answered with that generation's access token). */
  refreshTokens: Map<number, string>
  newest: number
  /** When its login was answered (ms into the run). */
  bornAt: number
  /** The clients think it is over (an acknowledged end, SESSION_EXPIRED, absent from a list). */
  over: boolean
  /** When the clients began to think so (ms into the run). */
  overAt: number
  /** A steady user's refresh under way: the next one waits for it. */
  refreshing: Promise<unknown> | null
}

interface Reply {
  outcome: Outcome
  body: unknown
}

const PARTITION_AT = 0.42 // of the operations: a partition starts there (where a cluster has one), the crash at half
const BAN_AT = 0.25 // of the operations: one ban surely (with an admin key), beside the random ones
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The `sid` and `gen` claims of a token, and the session's public id (the SHA-256 of the sid). */
export function decodeToken(token: string): TokenRef {
  const payload: unknown = JSON.parse(
    Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
  )
  if (!isRecord(payload) || typeof payload.sid !== 'string') throw new Error('a token without sid')
  const gen = typeof payload.gen === 'number' ? payload.gen : 0
  return { session: createHash('sha256').update(payload.sid).digest('base64url'), gen }
}

export interface WorkloadResult {
  history: History
  crash: Crash | null
  durationMs: number
}

export async function runWorkload(
  cluster: Cluster,
  options: WorkloadOptions,
): Promise<WorkloadResult> {
  const {
    seed,
    operations,
    clients = 6,
    busyUsers = 4,
    calmUsers = 2,
    steadyUsers = 2,
    thinkMs = 200,
    crash: crashing = true,
    timeoutMs = 10_000,
    burstSize = 16,
    doors,
    adminKey,
  } = options
  const { maxSessions, cacheSeconds } = cluster.settings
  const began = performance.now()
  const endpoints: Endpoint[] = [...cluster.edges, cluster.strict]
  const ops: Op[] = []
  const kinds = [
    ...Array<'busy'>(busyUsers).fill('busy'),
    ...Array<'calm'>(calmUsers).fill('calm'),
    ...Array<'steady'>(steadyUsers).fill('steady'),
  ]
  const users: User[] = kinds.map((kind, i) => ({
    openid: `chaos-${seed.toString(36)}-${kind}-${i}`,
    kind,
    logins: 0,
    sessions: [],
  }))
  const sessions = new Map<string, Known>()
  let started = 0
  let nextKey = 0
  let crash: Crash | null = null
  /** While the cluster restarts, clients wait on this before their next operation. */
  let restarting: Promise<unknown> | null = null

  async function request(
    endpoint: Endpoint,
    method: string,
    path: string,
    { token, json, admin }: { token?: string; json?: unknown; admin?: boolean } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { 'CF-Connecting-IP': '2001:db8:1::1' }
    if (token) headers.Authorization = `JWT ${token}`
    if (admin) headers.Authorization = `Bearer ${adminKey}`
    if (json !== undefined) headers['Content-Type'] = 'application/json'
    try {
      const res = await fetch(new URL(path, endpoint.url), {
        method,
        headers,
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      })
      const text = await res.text()
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {}
      const error = isRecord(body) && isRecord(body.error) ? body.error : undefined
      const code = typeof error?.code === 'string' ? error.code : null
      return { outcome: { type: 'reply', status: res.status, code }, body }
    } catch (err) {
      const cause =
        err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : ''
      return {
        outcome: { type: 'error', message: `${err instanceof Error ? err.message : err}${cause}` },
        body: undefined,
      }
    }
  }

  /** Runs one request and records it; `record` fills in what the answer showed. */
  async function op(
    kind: OpKind,
    endpoint: Endpoint,
    user: User,
    fields: Pick<Op, 'token' | 'target' | 'write' | 'door'>,
    send: () => Promise<Reply>,
    record?: (op: Op, body: unknown) => void,
  ): Promise<Op & { body: unknown }> {
    const start = performance.now()
    const reply = await send()
    const entry: Op = {
      id: ops.length,
      kind,
      endpoint: endpoint.name,
      strict: endpoint.strict,
      user: user.openid,
      start: start - began,
      end: performance.now() - began,
      ...fields,
      outcome: reply.outcome,
    }
    if (reply.outcome.type === 'reply' && reply.outcome.status < 300) record?.(entry, reply.body)
    ops.push(entry)
    return { ...entry, body: reply.body }
  }

  /** Takes the token of a 2xx login or refresh into the known sessions. */
  function learn(user: User, entry: Op, body: unknown) {
    if (!isRecord(body) || typeof body.token !== 'string') return
    if (isRecord(body.user) && typeof body.user.id === 'string') user.uid ??= body.user.id
    const ref = decodeToken(body.token)
    entry.issued = ref
    let known = sessions.get(ref.session)
    if (!known) {
      known = {
        id: ref.session,
        user,
        tokens: new Map(),
        refreshTokens: new Map(),
        newest: 0,
        bornAt: entry.end,
        over: false,
        overAt: Infinity,
        refreshing: null,
      }
      sessions.set(ref.session, known)
      user.sessions.push(known)
    }
    known.tokens.set(ref.gen, body.token)
    if (typeof body.refreshToken === 'string') known.refreshTokens.set(ref.gen, body.refreshToken)
    known.newest = Math.max(known.newest, ref.gen)
  }

  function markOver(known: Known) {
    if (known.over) return
    known.over = true
    known.overAt = performance.now()
  }

  /** What an answer tells the clients about a session's life (a replaced token is told the same). */
  function notice(known: Known, entry: Op, gen: number) {
    if (gen !== known.newest) return
    if (entry.outcome.type === 'reply' && entry.outcome.code === 'SESSION_EXPIRED') markOver(known)
  }

  const tokenRef = (known: Known, gen: number): TokenRef => ({ session: known.id, gen })

  /** The state `/auth/wechat/authorize` puts in the WeChat URL it redirects to. */
  async function authorizeState(endpoint: Endpoint): Promise<Reply> {
    if (!doors) throw new Error('no doors')
    const query = new URLSearchParams({
      appId: doors.oa,
      redirectUri: doors.redirectUri,
      scope: 'snsapi_userinfo',
    })
    try {
      const res = await fetch(new URL(`/auth/wechat/authorize?${query}`, endpoint.url), {
        headers: { 'CF-Connecting-IP': '2001:db8:1::1' },
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      })
      const text = await res.text()
      let code: string | null = null
      try {
        const error = (JSON.parse(text) as { error?: { code?: unknown } }).error
        if (typeof error?.code === 'string') code = error.code
      } catch {}
      const location = res.headers.get('Location')
      const state = location ? new URL(location).searchParams.get('state') : null
      return { outcome: { type: 'reply', status: res.status, code }, body: { state } }
    } catch (err) {
      return { outcome: { type: 'error', message: String(err) }, body: undefined }
    }
  }

  async function login(endpoint: Endpoint, user: User) {
    const door = doors ? (['mini', 'oa', 'app'] as const)[user.logins % 3] : 'mini'
    user.logins++
    const emulator = cluster.emulator ?? endpoint
    let state: string | undefined
    if (door === 'oa') {
      const started = await op('code', endpoint, user, {}, () => authorizeState(endpoint))
      if (!isRecord(started.body) || typeof started.body.state !== 'string') return
      state = started.body.state
    }
    const appId = door === 'oa' ? doors?.oa : door === 'app' ? doors?.mobile : undefined
    const code = await op('code', endpoint, user, {}, () =>
      appId
        ? request(emulator, 'POST', '/__emulator/oauth/code', {
            json: { appId, openid: user.openid, unionid: unionidOf(user) },
          })
        : request(emulator, 'POST', '/__emulator/code', { json: { openid: user.openid } }),
    )
    if (!isRecord(code.body) || typeof code.body.code !== 'string') return
    const json = { code: code.body.code, ...(appId ? { appId } : {}), ...(state ? { state } : {}) }
    await op(
      'login',
      endpoint,
      user,
      { door },
      () => request(endpoint, 'POST', '/auth/login', { json }),
      (entry, body) => learn(user, entry, body),
    )
  }

  const unionidOf = (user: User) => `union-${user.openid}`
  // Every door of a user is the same person: the emulator knows their unionid from the start.
  if (doors) {
    for (const user of users) {
      const set = await request(
        cluster.emulator ?? (endpoints[0] as Endpoint),
        'POST',
        `/__emulator/users/${user.openid}`,
        { json: { unionid: unionidOf(user) } },
      )
      if (set.outcome.type !== 'reply' || set.outcome.status !== 200) {
        throw new Error(`the emulator did not take ${user.openid}'s unionid`)
      }
    }
  }

  async function use(
    kind: OpKind,
    endpoint: Endpoint,
    known: Known,
    gen: number,
    method: string,
    path: string,
    extra: Pick<Op, 'target' | 'write'> & { json?: unknown } = {},
    record?: (entry: Op, body: unknown) => void,
  ) {
    // A refresh sends the refresh token, in the body, and nothing else.
    const refreshing = kind === 'refresh'
    const token = refreshing ? undefined : (known.tokens.get(gen) as string)
    const { json, ...fields } = extra
    const body = refreshing ? { refreshToken: known.refreshTokens.get(gen) } : json
    const entry = await op(
      kind,
      endpoint,
      known.user,
      { token: tokenRef(known, gen), ...fields },
      () =>
        request(endpoint, method, path, {
          ...(token ? { token } : {}),
          ...(body !== undefined ? { json: body } : {}),
        }),
      record,
    )
    notice(known, entry, gen)
    return entry
  }

  const read = (endpoint: Endpoint, known: Known, gen: number, kind: OpKind = 'read') =>
    use(kind, endpoint, known, gen, 'GET', '/me', {}, (entry, body) => {
      if (isRecord(body) && isRecord(body.session)) entry.data = body.session
    })

  /** The user's sessions that surely existed when `entry` began. */
  const olderThan = (user: User, entry: Op) => user.sessions.filter((k) => k.bornAt < entry.start)

  const list = (endpoint: Endpoint, known: Known, gen: number, kind: OpKind = 'list') =>
    use(kind, endpoint, known, gen, 'GET', '/auth/sessions', {}, (entry, body) => {
      if (!isRecord(body) || !Array.isArray(body.sessions)) return
      const listed = body.sessions.flatMap((s: unknown) =>
        isRecord(s) && typeof s.id === 'string' ? [s.id] : [],
      )
      entry.listed = listed
      for (const k of olderThan(known.user, entry)) if (!listed.includes(k.id)) markOver(k)
    })

  function client(index: number) {
    const rand = random(seed * 1000 + index)
    const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(rand() * items.length)]
    const chance = (p: number) => rand() < p
    const anyEndpoint = () => pick(endpoints) as Endpoint

    /** A session to use: mostly one the clients think live, sometimes one they think over, or any. */
    function session(filter: (known: Known) => boolean = () => true): Known | undefined {
      const all = [...sessions.values()].filter(filter)
      const live = all.filter((k) => !k.over)
      const over = all.filter((k) => k.over)
      const r = rand()
      if (r < 0.65 && live.length > 0) return pick(live)
      if (r < 0.95 && over.length > 0) return pick(over)
      return pick(all)
    }
    /** Its newest token mostly, a replaced one sometimes. */
    function generation(known: Known, replaced = 0.2): number {
      const older = [...known.tokens.keys()].filter((g) => g < known.newest)
      return chance(replaced) && older.length > 0 ? (pick(older) as number) : known.newest
    }

    /** An operator bans a busy user, waits a few seconds (past the cache window), and unbans them. */
    async function ban() {
      const user = pick(users.filter((u) => u.kind === 'busy' && u.uid && !u.banned))
      if (!user?.uid) return
      user.banned = true
      const path = `/admin/api/users/${encodeURIComponent(user.uid)}/ban`
      const at = anyEndpoint()
      const banned = await op('ban', at, user, {}, () =>
        request(at, 'POST', path, { admin: true, json: { reason: 'chaos' } }),
      )
      if (banned.outcome.type === 'reply' && banned.outcome.status < 300) {
        for (const k of olderThan(user, banned)) markOver(k)
      }
      await sleep((cacheSeconds + 2) * 1000 * (0.5 + rand()))
      // Until it is surely lifted: an unban with no answer may not have happened.
      for (let i = 0; i < 5; i++) {
        if (restarting) await restarting
        const endpoint = anyEndpoint()
        const lifted = await op('unban', endpoint, user, {}, () =>
          request(endpoint, 'DELETE', path, { admin: true }),
        )
        if (lifted.outcome.type === 'reply' && lifted.outcome.status < 500) break
      }
      user.banned = false
    }

    async function step() {
      if (adminKey && chance(0.008)) return ban()
      const r = rand()
      const endpoint = anyEndpoint()
      const busy = users.filter((u) => u.kind === 'busy')
      const capped = users.filter((u) => u.kind !== 'busy' && u.logins < maxSessions)
      const loginUser = () =>
        (chance(0.35) && capped.length > 0 ? pick(capped) : pick(busy)) as User
      if (r < 0.14 || sessions.size === 0) return login(endpoint, loginUser())
      if (r < 0.35) {
        const known = session()
        if (!known) return login(endpoint, loginUser())
        return read(endpoint, known, generation(known))
      }
      if (r < 0.38) {
        // A token of a session that ended a while ago (past the cache window),
        // replayed at every edge endpoint at once.
        const now = performance.now()
        const over = [...sessions.values()].filter((k) => k.over)
        const past = over.filter((k) => now - k.overAt > (cacheSeconds + 1) * 1000)
        const known = pick(past.length > 0 ? past : over)
        if (!known) return login(endpoint, loginUser())
        const gen = known.newest
        await Promise.all(cluster.edges.map((edge) => read(edge, known, gen)))
        return
      }
      if (r < 0.64) {
        const known = session()
        if (!known) return login(endpoint, loginUser())
        const n = nextKey++
        return use('write', endpoint, known, generation(known), 'PATCH', '/me/session', {
          write: { key: `k${n}`, value: n },
          json: { [`k${n}`]: n },
        })
      }
      if (r < 0.74) {
        // A refresh: of the newest token, or (busy users) of a replaced one.
        const known = session()
        if (!known) return login(endpoint, loginUser())
        const refresh = async () => {
          const gen = generation(known, known.user.kind === 'busy' ? 0.35 : 0)
          await use('refresh', endpoint, known, gen, 'POST', '/auth/refresh', {}, (entry, body) =>
            learn(known.user, entry, body),
          )
        }
        if (known.user.kind !== 'steady' && chance(0.3)) {
          // The answer is lost on its way (the client learns nothing from it)
          // and the client sends the same refresh token again at once.
          const gen = known.newest
          await use('refresh', endpoint, known, gen, 'POST', '/auth/refresh', {}, (entry, body) => {
            entry.lost = true
            if (isRecord(body) && typeof body.token === 'string')
              entry.issued = decodeToken(body.token)
          })
          const other = anyEndpoint()
          await use('refresh', other, known, gen, 'POST', '/auth/refresh', {}, (entry, body) =>
            learn(known.user, entry, body),
          )
          return
        }
        if (known.user.kind !== 'steady') return refresh()
        // One at a time, each with the token the one before gave.
        const previous = known.refreshing
        const mine = (async () => {
          await previous
          await refresh()
        })()
        known.refreshing = mine
        await mine
        if (known.refreshing === mine) known.refreshing = null
        return
      }
      if (r < 0.78) {
        // One token refreshed from two endpoints at once: a client retrying elsewhere.
        const known = session((k) => !k.over && k.user.kind !== 'steady')
        if (!known) return login(endpoint, loginUser())
        const gen = known.newest
        const other = pick(endpoints.filter((e) => e !== endpoint)) as Endpoint
        await Promise.all(
          [endpoint, other].map((e) =>
            use('refresh', e, known, gen, 'POST', '/auth/refresh', {}, (entry, body) =>
              learn(known.user, entry, body),
            ),
          ),
        )
        return
      }
      if (r < 0.795) {
        // A thief with an access token (any generation) asks for a token.
        const known = session()
        if (!known) return login(endpoint, loginUser())
        const gen = generation(known, 0.5)
        const stolen = known.tokens.get(gen) as string
        await op(
          'steal',
          endpoint,
          known.user,
          { token: tokenRef(known, gen) },
          () =>
            request(endpoint, 'POST', '/auth/refresh', {
              token: stolen,
              ...(chance(0.5) ? { json: { refreshToken: stolen } } : {}),
            }),
          (entry, body) => {
            if (isRecord(body) && typeof body.token === 'string')
              entry.issued = decodeToken(body.token)
          },
        )
        return
      }
      if (r < 0.81) {
        // A thief replays a refresh token whose successor was used: reuse, the session ends.
        const known = session((k) => !k.over && k.user.kind === 'busy')
        if (!known) return login(endpoint, loginUser())
        for (let i = 0; known.newest < 2 && i < 2; i++) {
          await use('refresh', endpoint, known, known.newest, 'POST', '/auth/refresh', {}, (e, b) =>
            learn(known.user, e, b),
          )
        }
        const entry = await use('refresh', anyEndpoint(), known, 0, 'POST', '/auth/refresh')
        if (entry.outcome.type === 'reply' && entry.outcome.code === 'TOKEN_REVOKED')
          markOver(known)
        return
      }
      if (r < 0.85) {
        const known = session()
        if (!known) return login(endpoint, loginUser())
        return list(endpoint, known, generation(known))
      }
      // The ends, for busy users only.
      const known = session((k) => k.user.kind === 'busy')
      if (!known) return login(endpoint, loginUser())
      if (r < 0.91) {
        const entry = await use(
          'logout',
          endpoint,
          known,
          generation(known),
          'POST',
          '/auth/logout',
        )
        if (entry.outcome.type === 'reply' && entry.outcome.status === 200) markOver(known)
        return
      }
      if (r < 0.97) {
        const target = pick(known.user.sessions) as Known
        const entry = await use(
          'revoke',
          endpoint,
          known,
          generation(known),
          'DELETE',
          `/auth/sessions/${target.id}`,
          { target: target.id },
        )
        if (entry.outcome.type === 'reply' && entry.outcome.status === 200) markOver(target)
        return
      }
      const entry = await use(
        'logout-all',
        endpoint,
        known,
        generation(known),
        'POST',
        '/auth/logout-all',
      )
      if (entry.outcome.type === 'reply' && entry.outcome.status === 200) {
        for (const k of olderThan(known.user, entry)) markOver(k)
      }
    }

    return (async () => {
      for (;;) {
        if (restarting) await restarting
        if (started >= operations) return
        const n = started++
        // A partition, where the cluster has one, some operations before the crash.
        if (crashing && n === Math.floor(operations * PARTITION_AT)) cluster.partition?.()
        if (crashing && n === Math.floor(operations / 2)) {
          // Halfway: a burst of operations, and the kill a few milliseconds
          // later, while most of them are in flight.
          const burst = Math.min(burstSize, operations - n)
          started += burst - 1
          const running = Array.from({ length: burst }, () => step())
          restarting = sleep(2 + rand() * 6)
            .then(() => cluster.crash())
            .then((c) => {
              crash = c
              restarting = null
            })
          await Promise.all([...running, restarting])
        } else {
          await (adminKey && n === Math.floor(operations * BAN_AT) ? ban() : step())
        }
        await sleep(rand() * thinkMs)
      }
    })()
  }

  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)))
  if (restarting) await restarting

  // Every session through the strict endpoint, with the newest token the clients hold.
  const strict = cluster.strict
  const all = [...sessions.values()]
  const finals = new Map<Known, Op>()
  for (let i = 0; i < all.length; i += 8) {
    await Promise.all(
      all.slice(i, i + 8).map(async (known) => {
        finals.set(known, await read(strict, known, known.newest, 'final-read'))
      }),
    )
  }
  for (const user of users) {
    const live = user.sessions.find((k) => {
      const final = finals.get(k)
      return final?.outcome.type === 'reply' && final.outcome.status === 200
    })
    if (live) await list(strict, live, live.newest, 'final-list')
  }

  const crashed = crash as Crash | null
  return {
    history: {
      ops,
      crash: crashed
        ? { killedAt: crashed.killedAt - began, restartedAt: crashed.restartedAt - began }
        : null,
    },
    crash: crashed,
    durationMs: performance.now() - began,
  }
}
