/**
 * `wxa-auth/testing/node`: the WeChat emulator for Node, with no workerd: a
 * plain HTTP server (`startEmulator()`; `runEmulator()` as a process of
 * its own, which `npx wxa-auth-emulator` runs) or a Hono app
 * (`nodeEmulator()`) over memory, the in-memory runtime, and the client that drives the emulator.
 * `wxa-auth/testing` holds the same for Workers (the `PlatformEmulator`
 * Durable Object), which a Node process cannot load. Nothing here belongs in
 * a production entry.
 */
export {
  type NodeEmulatorEnv,
  nodeEmulator,
  type RunningEmulator,
  runEmulator,
  startEmulator,
} from './emulator/node'
export { ACCESS_TOKEN_LIFETIME, CODE_TTL, PHONE_CODE_TTL } from './emulator/wechat/state'
export { memoryAuthority, memoryClaims, memoryKv, memoryRuntime } from './runtime/memory/index'
export * from './testing-client'
