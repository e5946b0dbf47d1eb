/**
 * `wxa-auth/testing`: the emulator of WeChat, Douyin and QQ for a host app's
 * development Worker and its tests, and the in-memory runtime. Bind the
 * `PlatformEmulator` Durable Object (it plays all three) as `WECHAT_EMULATOR`,
 * pass `upstream: emulatorUpstream()` in the development entry, and wxa-auth
 * talks to it instead of each platform whose AppSecret is not set;
 * `mountEmulator()` serves its control surface and `emulatorClient()` drives
 * it (login codes, phone codes, faults). `memoryRuntime(vars)` runs wxa-auth
 * with no store at all, for tests of the rules in milliseconds. Nothing here
 * belongs in a production entry. Tests that run in Node rather than workerd
 * import the client alone from `wxa-auth/testing/client`.
 */
export {
  ACCESS_TOKEN_LIFETIME,
  CODE_TTL,
  PHONE_CODE_TTL,
  PlatformEmulator,
  WeChatEmulator,
} from './emulator/emulator'
export { emulatorRoutes, mountEmulator } from './emulator/routes'
export { emulatorUpstream } from './emulator/upstream'
export {
  memoryAudit,
  memoryAuthority,
  memoryClaims,
  memoryDirectory,
  memoryKv,
  memoryRuntime,
} from './runtime/memory/index'
export * from './testing-client'
