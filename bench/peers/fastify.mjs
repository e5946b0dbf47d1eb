// The best Node peer of wxa-auth's GET /me (bench/node-peers.mjs): fastify
// with @fastify/jwt (fast-jwt, HS256, the issuer and audience checked) and
// @fastify/redis (ioredis), as their READMEs set them up. One Redis GET of
// the session the token names, as wxa-auth's stateful read. Environment:
// PORT, REDIS_URL, JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE.
import fastifyJwt from '@fastify/jwt'
import fastifyRedis from '@fastify/redis'
import Fastify from 'fastify'

const { PORT, REDIS_URL, JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE } = process.env
const app = Fastify({ logger: false })
await app.register(fastifyRedis, { url: REDIS_URL })
await app.register(fastifyJwt, {
  secret: JWT_SECRET,
  verify: { algorithms: ['HS256'], allowedIss: JWT_ISSUER, allowedAud: JWT_AUDIENCE },
})

const refused = (reply) => reply.code(401).send({ error: { code: 'TOKEN_INVALID' } })
app.get('/healthz', async () => ({ ok: true }))
app.get('/me', async (request, reply) => {
  let claims
  try {
    claims = await request.jwtVerify()
  } catch {
    return refused(reply)
  }
  const stored = await app.redis.get(`peer:session:${claims.sid}`)
  if (!stored) return refused(reply)
  const session = JSON.parse(stored)
  return { user: { id: claims.sub }, session: session.data }
})
await app.listen({ port: Number(PORT), host: '127.0.0.1' })
console.log('listening')
