import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isWxaAuthError } from '../src/errors'
import { decryptData, verifySignature } from '../src/platforms/data-crypto'
import { sessionKeySignature } from '../src/platforms/wechat/client'
// Made by node:crypto, not by our code: `node scripts/make-crypto-fixtures.mjs`.
import fixtures from './fixtures/crypto.json'

const { valid, invalid } = fixtures.decrypt

/** What decryptData throws, as the caller sees it. */
async function failure(promise: Promise<unknown>) {
  try {
    await promise
  } catch (err) {
    if (isWxaAuthError(err)) return { code: err.code, message: err.message, cause: err.cause }
    throw err
  }
  throw new Error('expected a failure')
}

describe('decryptData against node:crypto vectors', () => {
  it.each(valid.map((v) => [v.name, v] as const))('decrypts %s', async (_name, v) => {
    const { sessionKey, iv, encryptedData, appId } = v
    expect(await decryptData({ sessionKey, iv, encryptedData, appId })).toEqual(v.plaintext)
  })

  it('the fixtures were made by the script, with the command written in them', () => {
    expect(fixtures.generatedBy).toBe('node scripts/make-crypto-fixtures.mjs')
    expect(invalid.length).toBeGreaterThanOrEqual(20)
  })
})

describe('decryptData fails closed, with one code', () => {
  let warn: ReturnType<typeof vi.spyOn>
  beforeEach(() => {
    warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
  })
  afterEach(() => warn.mockRestore())

  it.each(invalid.map((v) => [v.name, v] as const))('rejects %s', async (_name, v) => {
    const { sessionKey, iv, encryptedData, appId } = v
    const err = await failure(decryptData({ sessionKey, iv, encryptedData, appId }))
    // The same code and message whatever failed: no padding or format oracle for the client.
    expect(err).toMatchObject({
      code: 'DECRYPT_FAILED',
      message: 'The encrypted data could not be decrypted.',
    })
    // The cause (for the log, never the client) says which check failed: no key, no data.
    const check = String((err.cause as Error).message)
    expect(check).not.toBe('')
    expect(check).not.toContain(sessionKey)
    expect(check).not.toContain(iv)
    // A library function writes no log of its own.
    expect(warn).not.toHaveBeenCalled()
  })

  it('names different checks for different failures', async () => {
    const logs = new Set<string>()
    for (const { sessionKey, iv, encryptedData, appId } of invalid) {
      const err = await failure(decryptData({ sessionKey, iv, encryptedData, appId }))
      logs.add(String((err.cause as Error).message))
    }
    expect(logs.size).toBeGreaterThanOrEqual(5)
  })

  it('rejects missing fields and non-strings', async () => {
    const v = valid[0] as (typeof valid)[number]
    const inputs: unknown[] = [
      undefined,
      {},
      { ...v, encryptedData: undefined },
      { ...v, iv: undefined },
      { ...v, sessionKey: undefined },
      { ...v, appId: undefined },
      { ...v, appId: '' },
      { ...v, encryptedData: 42 },
    ]
    for (const input of inputs) {
      expect((await failure(decryptData(input as never))).code).toBe('DECRYPT_FAILED')
    }
  })
})

describe('verifySignature against node:crypto vectors', () => {
  it.each(fixtures.signatures.map((v) => [v.rawData, v] as const))(
    'accepts the signature of %j',
    async (_raw, v) => {
      expect(await verifySignature(v)).toBe(true)
    },
  )

  it('rejects a changed rawData, a changed signature, another key, and malformed input', async () => {
    const v = fixtures.signatures[1] as (typeof fixtures.signatures)[number]
    const flipped = `${v.signature.slice(0, -1)}${v.signature.endsWith('0') ? '1' : '0'}`
    const cases = [
      { ...v, rawData: `${v.rawData} ` },
      { ...v, signature: flipped },
      { ...v, sessionKey: fixtures.signatures[0]?.sessionKey ?? '' },
      { ...v, signature: v.signature.toUpperCase() },
      { ...v, signature: v.signature.slice(0, 39) },
      { ...v, signature: '' },
      { ...v, sessionKey: '' },
      { ...v, rawData: undefined },
    ]
    for (const input of cases) expect(await verifySignature(input as never)).toBe(false)
  })
})

describe('sessionKeySignature against node:crypto vectors', () => {
  it.each(fixtures.sessionKeySignatures.map((v) => [v.sessionKey, v.message, v] as const))(
    'signs with the base64 text of %s as the HMAC key (message %j)',
    async (sessionKey, message, v) => {
      const signature = await sessionKeySignature(sessionKey, message)
      expect(signature).toBe(v.signature)
      // The bug two libraries shipped: the decoded bytes as the key.
      expect(signature).not.toBe(v.decodedKeySignature)
    },
  )

  it('signs the empty message by default, as checkSessionKey wants', async () => {
    const v = fixtures.sessionKeySignatures[0] as (typeof fixtures.sessionKeySignatures)[number]
    expect(await sessionKeySignature(v.sessionKey)).toBe(v.signature)
  })
})
