import type { Variables } from '../../env'
import { WxaAuthError } from '../../errors'
import type { ClaimStore } from '../../storage/claims'
import { checkSecret } from '../../token/keys'
import { registerSecret } from '../../util/redact'
import { text } from '../variables'
import { encodingAesKeyBytes, importPushKey, type PushKey } from './push'
import { type PushClaims, pushClaims } from './push-claims'

/** WeChat's message push to `/wechat/events`: the Token, the AES key and the claims. */
export interface PushSettings {
  /** Signs the URL check and every push. */
  token: string
  /** The EncodingAESKey, imported once; null when not set (plain mode only). */
  key(): Promise<PushKey | null>
  /** Signed queries and events already seen, claimed atomically. */
  claims: PushClaims
}

// WeChat allows 3 to 32 letters and digits; we ask for all 32, generated: in
// plain mode the Token is all that signs a push that can cancel an account.
const EVENT_TOKEN = /^[A-Za-z0-9]{32}$/

/** The message push settings, or null when `WECHAT_EVENT_TOKEN` is not set. */
export function pushSettings(vars: Variables, claims: ClaimStore): PushSettings | null {
  const token = text(vars, 'WECHAT_EVENT_TOKEN')
  const aesKey = text(vars, 'WECHAT_EVENT_AES_KEY')
  if (!token) {
    if (aesKey) {
      throw new WxaAuthError(
        'CONFIG_INVALID',
        'WECHAT_EVENT_AES_KEY is set but WECHAT_EVENT_TOKEN is not: set both (message push settings).',
      )
    }
    return null
  }
  if (!EVENT_TOKEN.test(token)) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'WECHAT_EVENT_TOKEN must be the Token of the message push settings: 32 letters or digits, generated (`openssl rand -hex 16`).',
    )
  }
  checkSecret('WECHAT_EVENT_TOKEN', token)
  if (aesKey && !encodingAesKeyBytes(aesKey)) {
    throw new WxaAuthError(
      'CONFIG_INVALID',
      'WECHAT_EVENT_AES_KEY must be the EncodingAESKey of the message push settings: 43 base64 characters that decode to 32 bytes.',
    )
  }
  registerSecret(aesKey)
  let key: Promise<PushKey> | undefined
  return {
    token,
    async key() {
      if (!aesKey) return null
      key ??= importPushKey(aesKey)
      return key
    },
    claims: pushClaims(claims, { secret: token }),
  }
}
