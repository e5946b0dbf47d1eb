import { bytesOf } from '../util/base64url'
import { hex } from '../util/hex'

// WeChat's side of the message push, for the emulator: it builds a push the
// way WeChat does, independently of the Worker's code that checks it.
// https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html

/** The admin's message push settings: data format and mode (明文 / 兼容 / 安全). */
export type PushFormat = 'json' | 'xml'
export type PushMode = 'plain' | 'compatible' | 'safe'

export interface PushSettings {
  token: string
  /** The 43-character EncodingAESKey; needed for compatible and safe mode. */
  aesKey?: string
}

export interface PushOptions {
  /** The message fields, in WeChat's order. Numbers stay numbers in JSON and bare in XML; a group is one level deep. */
  fields: Record<string, PushValue>
  appId: string
  format: PushFormat
  mode: PushMode
  /** Unix seconds of the push's `timestamp`. */
  timestamp: number
}

/** A push as WeChat sends it: `POST <url>?<query>` with this body. */
export interface BuiltPush {
  query: string
  body: string
  contentType: string
}

const PUSH_BLOCK = 32 // bytes: WeChat pads to 32-byte blocks
const encoder = new TextEncoder()
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))

const sha1Sorted = async (...parts: string[]) =>
  hex(await crypto.subtle.digest('SHA-1', encoder.encode([...parts].sort().join(''))))

const cdata = (value: string) => `<![CDATA[${value.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`

/** A field of a push: text, a number, or (one level down) a group of them. */
export type PushValue = string | number | Record<string, string | number>

const xmlValue = (value: string | number) =>
  typeof value === 'number' ? String(value) : cdata(value)

function serialize(fields: Record<string, PushValue>, format: PushFormat): string {
  if (format === 'json') return JSON.stringify(fields)
  const items = Object.entries(fields).map(([name, value]) => {
    const inner =
      typeof value === 'object'
        ? Object.entries(value)
            .map(([k, v]) => `<${k}>${xmlValue(v)}</${k}>`)
            .join('')
        : xmlValue(value)
    return `<${name}>${inner}</${name}>`
  })
  return `<xml>${items.join('')}</xml>`
}

/**
 * Encrypts `message` for `appId` as WeChat does: 16 random bytes, the length
 * (4 bytes, big-endian), the message, the AppID, PKCS#7 to 32-byte blocks;
 * AES-256-CBC with key = base64(EncodingAESKey + "="), IV = its first 16 bytes.
 * WebCrypto adds a 16-byte padding block of its own, which is cut off.
 * `random` is the 16-byte prefix; tests pass one to compare with known vectors.
 */
export async function sealPush(
  aesKey: string,
  appId: string,
  message: string,
  random: Uint8Array = crypto.getRandomValues(new Uint8Array(16)),
): Promise<string> {
  const keyBytes = bytesOf(atob(`${aesKey}=`))
  const key = await crypto.subtle.importKey('raw', keyBytes, 'AES-CBC', false, ['encrypt'])
  const text = encoder.encode(message)
  const app = encoder.encode(appId)
  const length = 16 + 4 + text.length + app.length
  const pad = PUSH_BLOCK - (length % PUSH_BLOCK)
  const plain = new Uint8Array(length + pad).fill(pad)
  plain.set(random.subarray(0, 16))
  new DataView(plain.buffer).setUint32(16, text.length)
  plain.set(text, 20)
  plain.set(app, 20 + text.length)
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-CBC', iv: keyBytes.slice(0, 16) },
    key,
    plain,
  )
  return base64(new Uint8Array(sealed, 0, plain.length))
}

/** Builds the push WeChat would send for `fields` with the admin's `settings`. */
export async function buildPush(settings: PushSettings, options: PushOptions): Promise<BuiltPush> {
  const { fields, appId, format, mode } = options
  const timestamp = String(options.timestamp)
  const nonce = String(crypto.getRandomValues(new Uint32Array(1))[0])
  const query = new URLSearchParams({
    signature: await sha1Sorted(settings.token, timestamp, nonce),
    timestamp,
    nonce,
  })
  // WeChat names the sender in the query (not signed): FromUserName, WeChat's
  // own account for the authorization events, never the user.
  if (typeof fields.FromUserName === 'string') query.set('openid', fields.FromUserName)
  const contentType = format === 'json' ? 'application/json' : 'text/xml'
  const message = serialize(fields, format)
  if (mode === 'plain') return { query: query.toString(), body: message, contentType }
  if (!settings.aesKey) throw new Error('WECHAT_EVENT_AES_KEY is not set')
  const encrypt = await sealPush(settings.aesKey, appId, message)
  query.set('encrypt_type', 'aes')
  query.set('msg_signature', await sha1Sorted(settings.token, timestamp, nonce, encrypt))
  const envelope: Record<string, PushValue> =
    mode === 'safe'
      ? { ToUserName: String(fields.ToUserName ?? ''), Encrypt: encrypt }
      : { ...fields, Encrypt: encrypt }
  return { query: query.toString(), body: serialize(envelope, format), contentType }
}
