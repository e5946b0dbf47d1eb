// The tutorial Node stack beside wxa-auth's GET /me (bench/node-peers.mjs):
// express with jsonwebtoken (HS256, the issuer and audience checked) and
// ioredis. One Redis GET of the session the token names, as wxa-auth's
// stateful read. Environment: PORT, REDIS_URL, JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE.
import express from 'express'
import { Redis } from 'ioredis'
import jwt from 'jsonwebtoken'

const { PORT, REDIS_URL, JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE } = process.env
const redis = new Redis(REDIS_URL)
const app = express()
const BEARER = /^Bearer (.+)$/

const refused = (res) => res.status(401).json({ error: { code: 'TOKEN_INVALID' } })
app.get('/healthz', (_req, res) => res.json({ ok: true }))
app.get('/me', async (req, res) => {
  let claims
  try {
    const token = BEARER.exec(req.headers.authorization ?? '')?.[1] ?? ''
    claims = jwt.verify(token, JWT_SECRET, {
      algorithms: ['HS256'],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
    })
  } catch {
    return refused(res)
  }
  const stored = await redis.get(`peer:session:${claims.sid}`)
  if (!stored) return refused(res)
  const session = JSON.parse(stored)
  res.json({ user: { id: claims.sub }, session: session.data })
})
app.listen(Number(PORT), '127.0.0.1', () => console.log('listening'))
