/**
 * `wxa-auth/node`: wxa-auth on Node (`@hono/node-server`) with Redis, for
 * servers in mainland China (WeChat Cloud Hosting, SCF, Sealos, a VPS). The
 * runtime (`node()`), the server (`serve()`), and the adapters they are made of.
 */
export { nodeClientAddress } from './address'
export { redisAudit } from './audit'
export { type RedisAuthorityOptions, redisAuthority } from './authority'
export { redisClaims } from './claims'
export { redisDirectory } from './directory'
export { redisKv } from './kv'
export { directoryObjects } from './objects'
export { memoryLimiter, redisLimiter } from './rate-limit'
export {
  type AnyRedisClient,
  type RedisClient,
  type RedisClusterClient,
  type RedisConnection,
  type RedisMulti,
  type RedisSentinelClient,
  redisConnection,
} from './redis'
export { type NodeOptions, type NodeRuntime, node } from './runtime'
export { type FetchApp, type NodeServer, type ServeOptions, serve } from './serve'
