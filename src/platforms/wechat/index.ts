/**
 * `wxa-auth/wechat`: the WeChat toolkit on its own. The server API client,
 * the crypto of the data a mini program hands over, and the crypto and
 * parsing of WeChat's message push. wxa-auth uses them; so can you.
 */
export {
  type DecryptDataInput,
  decryptData,
  type VerifySignatureInput,
  verifySignature,
} from '../data-crypto'
export {
  type Code2SessionResult,
  createWeChatClient,
  DEFAULT_RETRIES,
  DEFAULT_RETRY_DELAY_MS,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_UPSTREAM_RETRIES,
  type StableToken,
  sessionKeySignature,
  WECHAT_API_BASE,
  type WeChatClient,
  type WeChatClientOptions,
  type WeChatErrorBody,
  wechatError,
} from './client'
export {
  AUTHORIZATION_EVENTS,
  type AuthorizationEvent,
  type AuthorizationEventName,
  authorizationEvent,
  type PushFields,
  readPushBody,
} from './events'
export {
  decryptPush,
  encodingAesKeyBytes,
  importPushKey,
  type OpenedPush,
  type PushKey,
  pushSignature,
  verifyPushSignature,
} from './push'
export { parseWeChatXml, type XmlField, XmlShapeError } from './xml'
