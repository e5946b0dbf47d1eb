/** The appid the emulator plays WeChat for when WECHAT_APP_ID is not set. */
export const EMULATOR_APP_ID = 'wx00000000emulator'
/** Not a secret: the emulator's stand-in AppSecret, used only when no real one is configured. */
export const EMULATOR_APP_SECRET = 'emulator-app-secret-not-a-secret'

/**
 * The hosts of the emulator's Douyin and QQ faces: their upstream sends
 * each platform's calls there, path and query as the client made them.
 */
export const EMULATOR_FACES = {
  douyin: 'douyin.emulator.invalid',
  qq: 'qq.emulator.invalid',
  alipay: 'alipay.emulator.invalid',
} as const

/** The emulator's Durable Object: one instance plays every platform for the whole dev Worker. */
export function emulatorStub(env: { WECHAT_EMULATOR?: DurableObjectNamespace }): DurableObjectStub {
  const ns = env.WECHAT_EMULATOR
  if (!ns) throw new Error('the WeChat emulator is not bound')
  return ns.get(ns.idFromName('wechat'))
}
