// Writes test/fixtures/push.json: vectors for WeChat's message push crypto
// (src/wechat/push.ts, the emulator's src/emulator/push.ts) and whole pushes
// for /wechat/events, made by an independent implementation (node:crypto,
// OpenSSL underneath) so the tests do not only round-trip through our own
// code. Deterministic: keys, nonces and random prefixes come from labelled
// SHA-256, so running it again gives the same file.
//
//   node scripts/make-push-fixtures.mjs
import { createCipheriv, createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'

const COMMAND = 'node scripts/make-push-fixtures.mjs'
const OUT = 'test/fixtures/push.json'
const APP_ID = 'wx00000000emulator'
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** @param {string} label @param {number} n */
const bytes = (label, n) => {
  const out = Buffer.alloc(n)
  for (let i = 0; i * 32 < n; i++) {
    createHash('sha256')
      .update(`${label}#${i}`)
      .digest()
      .copy(out, i * 32)
  }
  return out
}
/** Letters and digits, as WeChat generates Tokens and EncodingAESKeys. @param {string} label @param {number} n */
const alnum = (label, n) => Array.from(bytes(label, n), (b) => ALPHABET[b % 62]).join('')

/** An EncodingAESKey whose last character carries nonzero unused bits (WeChat's often do). */
function encodingAesKey() {
  for (let i = 0; ; i++) {
    const key = alnum(`aes-key-${i}`, 43)
    if (ALPHABET.indexOf(key[42] ?? 'A') % 4 !== 0) return key
  }
}

const token = alnum('token', 32)
const aesKey = encodingAesKey()
const key = Buffer.from(`${aesKey}=`, 'base64')
if (key.length !== 32) throw new Error('bad key')

/** hex sha1 of the sorted concatenation. @param {string[]} parts */
const signature = (...parts) =>
  createHash('sha1')
    .update([...parts].sort().join(''), 'utf8')
    .digest('hex')

/** PKCS#7 to 32-byte blocks, as WeChat pads. @param {Buffer} plain */
const pad32 = (plain) => {
  const n = 32 - (plain.length % 32)
  return Buffer.concat([plain, Buffer.alloc(n, n)])
}

/** AES-256-CBC of already-padded bytes. @param {Buffer} padded @param {Buffer} [withKey] */
const encryptRaw = (padded, withKey = key) => {
  const cipher = createCipheriv('aes-256-cbc', withKey, withKey.subarray(0, 16)).setAutoPadding(
    false,
  )
  return Buffer.concat([cipher.update(padded), cipher.final()])
}

/** random(16) | len(4, big-endian) | message | appid. @param {Buffer} random @param {string} message @param {string} appId */
const framed = (random, message, appId) => {
  const text = Buffer.from(message, 'utf8')
  const length = Buffer.alloc(4)
  length.writeUInt32BE(text.length)
  return Buffer.concat([random, length, text, Buffer.from(appId, 'utf8')])
}

/** @param {string} label @param {string} message @param {string} [appId] */
function sealed(label, message, appId = APP_ID) {
  const random = bytes(`random:${label}`, 16)
  const plain = framed(random, message, appId)
  return {
    name: label,
    random: random.toString('hex'),
    message,
    appId,
    padLength: 32 - (plain.length % 32),
    encrypt: encryptRaw(pad32(plain)).toString('base64'),
  }
}

const xmlEvent = (/** @type {Record<string, string | number>} */ fields) =>
  `<xml>${Object.entries(fields)
    .map(([k, v]) => `<${k}>${typeof v === 'number' ? v : `<![CDATA[${v}]]>`}</${k}>`)
    .join('')}</xml>`

const revoke = {
  ToUserName: 'gh_870882ca4b1',
  FromUserName: 'owAqB1v0ahK_Xlc7GshIDdf2yf7E',
  CreateTime: 1764300000,
  MsgType: 'event',
  Event: 'user_authorization_revoke',
  OpenID: 'owAqB1nqaOYYWl0Ng484G2z5NIwU',
  AppID: APP_ID,
  RevokeInfo: '8',
}

// Plaintexts chosen for their padding: 32 (a whole block), more than 16 (which
// WebCrypto's own PKCS#7 check would refuse), and at most 16.
const valid = [sealed('xml event', xmlEvent(revoke)), sealed('json event', JSON.stringify(revoke))]
for (const [label, want] of /** @type {[string, number][]} */ ([
  ['pad 32', 32],
  ['pad 17..31', 20],
  ['pad 1..16', 5],
])) {
  const base = 16 + 4 + APP_ID.length
  const length = (((32 - want - base) % 32) + 32) % 32 || 32
  const v = sealed(label, 'x'.repeat(length))
  if (v.padLength !== want) throw new Error(`${label}: pad ${v.padLength}, wanted ${want}`)
  valid.push(v)
}
valid.push(sealed('utf-8 message', JSON.stringify({ ...revoke, Note: '微信用户 🐼' })))

const base = valid[0]
if (!base) throw new Error('no base vector')
const baseData = Buffer.from(base.encrypt, 'base64')
const baseRandom = Buffer.from(base.random, 'hex')

/** Encrypts hand-made bytes (already padded) under the fixture key. @param {Buffer} padded */
const withKey = (padded) => encryptRaw(padded).toString('base64')
/** A frame padded by hand with `pad` bytes of `value`. @param {Buffer} frame @param {number} pad @param {number} value */
const padWith = (frame, pad, value) => Buffer.concat([frame, Buffer.alloc(pad, value)])
const frame = framed(baseRandom, base.message, APP_ID)
const fit = 32 - (frame.length % 32)

/** @param {string} name @param {string} why @param {string} encrypt */
const bad = (name, why, encrypt) => ({ name, why, encrypt })
const invalid = [
  bad(
    'another key',
    'the same frame under another EncodingAESKey',
    encryptRaw(pad32(frame), bytes('another key', 32)).toString('base64'),
  ),
  bad(
    'another AppID',
    'sealed for wx0000000000other',
    sealed('other', base.message, 'wx0000000000other').encrypt,
  ),
  bad('no AppID', 'nothing after the message', sealed('none', base.message, '').encrypt),
  bad('pad byte 0', 'padding value 0', withKey(padWith(frame, fit, 0))),
  bad(
    'pad byte 33',
    'more than a 32-byte block',
    withKey(padWith(frame, 33 + ((16 - ((frame.length + 33) % 16)) % 16), 33)),
  ),
  bad(
    'pad bytes differ',
    'last byte says 8, the one before is 7',
    withKey(Buffer.concat([frame, Buffer.alloc(fit - 2, fit), Buffer.from([7, 8])])),
  ),
  bad(
    'length past the end',
    'the 4-byte length says more than there is',
    withKey(
      pad32(Buffer.concat([baseRandom, Buffer.from([0, 0, 0x7f, 0xff]), Buffer.from('short')])),
    ),
  ),
  bad('too short', 'fewer than 20 bytes before the padding', withKey(pad32(Buffer.from('tiny')))),
  bad(
    'not UTF-8',
    'message bytes ff fe',
    withKey(
      pad32(
        Buffer.concat([baseRandom, Buffer.from([0, 0, 0, 2, 0xff, 0xfe]), Buffer.from(APP_ID)]),
      ),
    ),
  ),
  bad(
    'cut by a block',
    'the last 16 bytes cut off',
    baseData.subarray(0, baseData.length - 16).toString('base64'),
  ),
  bad(
    'not a multiple of 16',
    'one byte cut off',
    baseData.subarray(0, baseData.length - 1).toString('base64'),
  ),
  bad('one block', '16 bytes only', baseData.subarray(0, 16).toString('base64')),
  bad('empty', 'nothing', ''),
  bad('not base64', 'characters outside the alphabet', '!!!notbase64!!!'),
  bad(
    'space for plus',
    'a + became a space in transit',
    base.encrypt.includes('+') ? base.encrypt.replace('+', ' ') : ` ${base.encrypt.slice(1)}`,
  ),
  bad(
    'a flipped bit',
    'one ciphertext bit changed',
    Buffer.from(baseData.map((b, i) => (i === 40 ? b ^ 1 : b))).toString('base64'),
  ),
]

const signatures = [
  { token, timestamp: '1764300000', nonce: '1320562132' },
  { token, timestamp: '1764300001', nonce: 'abc', encrypt: base.encrypt },
  { token: 'AAAA', timestamp: '0', nonce: 'ZZZZ' },
].map((v) => ({ ...v, signature: signature(...Object.values(v)) }))

/** Whole pushes, as WeChat sends them, and what /wechat/events must make of them. */
const now = 1764300123
/** @param {string} name @param {'json' | 'xml'} format @param {'plain' | 'compatible' | 'safe'} mode @param {Record<string, string | number>} fields */
function push(name, format, mode, fields) {
  const timestamp = String(now - 7)
  const nonce = String(bytes(`nonce:${name}`, 4).readUInt32BE())
  const message = format === 'json' ? JSON.stringify(fields) : xmlEvent(fields)
  const query = new URLSearchParams({
    signature: signature(token, timestamp, nonce),
    timestamp,
    nonce,
  })
  if (mode === 'plain') return { name, now, query: query.toString(), body: message, expect: fields }
  const { encrypt } = sealed(`push:${name}`, message)
  query.set('encrypt_type', 'aes')
  query.set('msg_signature', signature(token, timestamp, nonce, encrypt))
  /** @type {Record<string, string | number>} */
  const envelope =
    mode === 'safe'
      ? { ToUserName: fields.ToUserName ?? '', Encrypt: encrypt }
      : { ...fields, Encrypt: encrypt }
  return {
    name,
    now,
    query: query.toString(),
    body: format === 'json' ? JSON.stringify(envelope) : xmlEvent(envelope),
    expect: fields,
  }
}
const pushes = []
for (const format of /** @type {const} */ (['json', 'xml'])) {
  for (const mode of /** @type {const} */ (['plain', 'compatible', 'safe'])) {
    pushes.push(
      push(`${format} ${mode}`, format, mode, {
        ...revoke,
        OpenID: `fixture-${format}-${mode}`,
      }),
    )
  }
}

const fixtures = {
  generatedBy: COMMAND,
  note: 'node:crypto (OpenSSL) vectors for WeChat message push; do not edit by hand. Not secrets: made for the tests.',
  token,
  encodingAesKey: aesKey,
  appId: APP_ID,
  decrypt: { valid, invalid },
  signatures,
  pushes,
}
writeFileSync(OUT, `${JSON.stringify(fixtures, null, 2)}\n`)
console.log(
  `wrote ${OUT}: ${valid.length} valid, ${invalid.length} invalid, ${pushes.length} pushes`,
)
