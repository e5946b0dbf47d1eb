/**
 * `wxa-auth/testing`: the WeChat emulator for a host app's development
 * Worker and its tests. Bind the `WeChatEmulator` Durable Object as
 * `WECHAT_EMULATOR` (and set no AppSecret), and wxa-auth talks to it instead
 * of WeChat; `mountEmulator()` serves its control surface and
 * `emulatorClient()` drives it (login codes, phone codes, faults). Nothing
 * here belongs in a production entry. Tests that run in Node rather than
 * workerd import the client alone from `wxa-auth/testing/client`.
 */

export { devRoutes } from './emulator/dev-routes'
export {
  ACCESS_TOKEN_LIFETIME,
  CODE_TTL,
  PHONE_CODE_TTL,
  WeChatEmulator,
} from './emulator/emulator'
export { emulatorRoutes, mountEmulator } from './emulator/routes'
export { emulatorStub } from './emulator/stub'
export * from './testing-client'
