// Writes test/fixtures/crypto.json: vectors for src/wechat/crypto.ts made by an
// independent implementation (node:crypto, OpenSSL underneath), so the tests do
// not only round-trip through our own code. Deterministic: every key, iv and
// byte comes from a labelled SHA-256, so running it again gives the same file.
//
//   node scripts/make-crypto-fixtures.mjs
import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto'
import { writeFileSync } from 'node:fs'

const COMMAND = 'node scripts/make-crypto-fixtures.mjs'
const OUT = 'test/fixtures/crypto.json'
const APP_ID = 'wx00000000emulator'

/** @param {string} label @param {number} n */
const bytes = (label, n) => createHash('sha256').update(label).digest().subarray(0, n)
/** @param {string} label */
const key16 = (label) => bytes(`key:${label}`, 16).toString('base64')
/** @param {string} label */
const iv16 = (label) => bytes(`iv:${label}`, 16)

/** AES-128-CBC with PKCS#7 (node's default padding). @param {string} key @param {Buffer} iv @param {Buffer} plain */
function encrypt(key, iv, plain) {
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(key, 'base64'), iv)
  return Buffer.concat([cipher.update(plain), cipher.final()])
}

/** Pads to a block with PKCS#7 by hand, for plaintexts node would not make. @param {Buffer} plain */
function pkcs7(plain) {
  const n = 16 - (plain.length % 16)
  return Buffer.concat([plain, Buffer.alloc(n, n)])
}

/** Encrypts already-padded bytes. @param {string} key @param {Buffer} iv @param {Buffer} padded */
function encryptRaw(key, iv, padded) {
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(key, 'base64'), iv).setAutoPadding(false)
  return Buffer.concat([cipher.update(padded), cipher.final()])
}

/** @param {string} label @param {object} data */
function vector(label, data) {
  const sessionKey = key16(label)
  const iv = iv16(label)
  const plaintext = JSON.stringify(data)
  return {
    name: label,
    sessionKey,
    iv: iv.toString('base64'),
    encryptedData: encrypt(sessionKey, iv, Buffer.from(plaintext, 'utf8')).toString('base64'),
    appId: APP_ID,
    plaintext: data,
  }
}

const userInfo = {
  openId: 'oGZUI0egBJY1zhBYw2KhdUfwVJJE',
  nickName: '微信用户 🐼',
  gender: 0,
  language: 'zh_CN',
  city: '',
  province: '',
  country: '',
  avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24Z/132',
  unionId: 'ocMvos6NjeKLIBqg5Mr9QjxrP1FA',
  watermark: { timestamp: 1764300000, appid: APP_ID },
}
const phone = {
  phoneNumber: '13580006666',
  purePhoneNumber: '13580006666',
  countryCode: '86',
  watermark: { timestamp: 1764300001, appid: APP_ID },
}

const valid = [
  vector('user-info', userInfo),
  vector('phone-number', phone),
  // Exactly one block of plaintext padding: a whole extra block of 0x10.
  vector('block-aligned', { a: 'xxxxxxxxxx', watermark: { appid: APP_ID } }),
]
if (valid[2] && Buffer.from(valid[2].encryptedData, 'base64').length % 16 !== 0) {
  throw new Error('bad fixture')
}

const base = valid[0]
if (!base) throw new Error('no base vector')
const baseData = Buffer.from(base.encryptedData, 'base64')

/** A key other than base's under which base's ciphertext still has valid PKCS#7 padding. */
function wrongKeyWithValidPadding() {
  for (let i = 0; ; i++) {
    const key = key16(`wrong-key-${i}`)
    const decipher = createDecipheriv('aes-128-cbc', Buffer.from(key, 'base64'), iv16('user-info'))
    try {
      decipher.update(baseData)
      decipher.final()
      return { key, tries: i + 1 }
    } catch {}
  }
}
const lucky = wrongKeyWithValidPadding()

/** @param {string} name @param {string} why @param {Partial<typeof base>} change */
const bad = (name, why, change) => ({
  name,
  why,
  sessionKey: base.sessionKey,
  iv: base.iv,
  encryptedData: base.encryptedData,
  appId: APP_ID,
  ...change,
})
/** Encrypts `plain` (already a string) with base's key and iv, padded by hand. @param {Buffer} plain */
const withBaseKey = (plain) =>
  encryptRaw(base.sessionKey, iv16('user-info'), pkcs7(plain)).toString('base64')

const invalid = [
  bad('wrong key', 'another 16-byte key', { sessionKey: key16('another') }),
  bad('wrong key, valid padding', `found after ${lucky.tries} keys: padding passes, JSON fails`, {
    sessionKey: lucky.key,
  }),
  bad('plus turned into space', 'a + in transit became a space', {
    encryptedData: base.encryptedData.includes('+')
      ? base.encryptedData.replaceAll('+', ' ')
      : `${base.encryptedData.slice(0, 4)} ${base.encryptedData.slice(5)}`,
  }),
  bad('plus turned into space in the iv', 'same, in the iv', {
    iv: 'ab+cd+ef+gh+ij+klmnopq=='.replace(/\+/g, ' '),
  }),
  bad('not base64', 'characters outside the alphabet', { encryptedData: '!!!notbase64!!!' }),
  bad('base64url', 'the url-safe alphabet is not what WeChat sends', {
    encryptedData: base.encryptedData.replace(/\+/g, '-').replace(/\//g, '_'),
  }),
  bad('missing padding', 'unpadded base64', {
    iv: base.iv.replace(/=+$/, ''),
  }),
  bad('iv of 15 bytes', 'iv length', { iv: bytes('iv15', 15).toString('base64') }),
  bad('iv of 17 bytes', 'iv length', { iv: bytes('iv17', 17).toString('base64') }),
  bad('session_key of 24 bytes', 'AES-192 is not what WeChat uses', {
    sessionKey: bytes('key24', 24).toString('base64'),
  }),
  bad('ciphertext not a multiple of 16', 'one byte cut off the end', {
    encryptedData: baseData.subarray(0, baseData.length - 1).toString('base64'),
  }),
  bad('truncated by a block', 'the last block cut off: padding fails', {
    encryptedData: baseData.subarray(0, baseData.length - 16).toString('base64'),
  }),
  bad('truncated text', 'the base64 text cut short', {
    encryptedData: base.encryptedData.slice(0, -7),
  }),
  bad('empty ciphertext', 'nothing to decrypt', { encryptedData: '' }),
  bad('valid padding, not JSON', 'plaintext "hello, not json"', {
    encryptedData: withBaseKey(Buffer.from('hello, not json', 'utf8')),
  }),
  bad('valid padding, not UTF-8', 'plaintext bytes ff fe', {
    encryptedData: withBaseKey(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
  }),
  bad('valid padding, a JSON array', 'JSON but not an object', {
    encryptedData: withBaseKey(Buffer.from(`[${JSON.stringify(userInfo)}]`, 'utf8')),
  }),
  bad('no watermark', 'JSON object without watermark', {
    encryptedData: withBaseKey(Buffer.from('{"nickName":"x"}', 'utf8')),
  }),
  bad('watermark of another appid', 'watermark.appid is another app', {
    encryptedData: withBaseKey(
      Buffer.from(JSON.stringify({ ...userInfo, watermark: { appid: 'wxother', timestamp: 1 } })),
    ),
  }),
  bad('expected appid differs', 'decrypts, but this app is another one', { appId: 'wxother' }),
]

const signatures = [
  { rawData: JSON.stringify({ nickName: 'Band', gender: 1 }), sessionKey: key16('sig-1') },
  {
    rawData: JSON.stringify({ nickName: '微信用户 🐼', city: '广州' }),
    sessionKey: key16('sig-2'),
  },
  { rawData: '', sessionKey: key16('sig-3') },
].map((v) => ({
  ...v,
  signature: createHash('sha1')
    .update(v.rawData + v.sessionKey, 'utf8')
    .digest('hex'),
}))

// The HMAC key is the UTF-8 text of the base64 session_key; `decodedKeySignature`
// is the well-known wrong variant (key = the decoded 16 bytes), which must differ.
const sessionKeySignatures = [
  { sessionKey: key16('check-1'), message: '' },
  { sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==', message: '' },
  { sessionKey: key16('check-2'), message: 'hello 世界' },
].map((v) => ({
  ...v,
  signature: createHmac('sha256', Buffer.from(v.sessionKey, 'utf8'))
    .update(v.message, 'utf8')
    .digest('hex'),
  decodedKeySignature: createHmac('sha256', Buffer.from(v.sessionKey, 'base64'))
    .update(v.message, 'utf8')
    .digest('hex'),
}))

const fixtures = {
  generatedBy: COMMAND,
  note: 'node:crypto (OpenSSL) vectors for src/wechat/crypto.ts; do not edit by hand.',
  decrypt: { valid, invalid },
  signatures,
  sessionKeySignatures,
}
writeFileSync(OUT, `${JSON.stringify(fixtures, null, 2)}\n`)
console.log(`wrote ${OUT}: ${valid.length} valid, ${invalid.length} invalid decrypt vectors`)
