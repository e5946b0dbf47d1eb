/**
 * `wxa-auth/testing/client`: drives the emulator (WeChat, Douyin, QQ) of a running
 * development Worker over HTTP (login codes, phone codes, sealed user data,
 * faults). It needs nothing but `fetch`, so tests in Node (a Vitest node
 * project, Playwright, `node --test`) can import it; `wxa-auth/testing`
 * re-exports it next to the emulator itself.
 */
export {
  DEFAULT_EMULATOR_PATH,
  type EmulatedUserChange,
  type EmulatedUserState,
  type EmulatorBindings,
  type EmulatorClient,
  type EmulatorClientOptions,
  type EmulatorFetcher,
  type EmulatorTarget,
  emulatorClient,
  type LoginCodeOptions,
  type LoginCodes,
  loginCode,
  type SealedUserData,
  type UserOptions,
} from './emulator/client'
export { EMULATOR_APP_ID, EMULATOR_APP_SECRET } from './emulator/stub'
