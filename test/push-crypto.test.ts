import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { sealPush } from '../src/emulator/push'
import { isWxaAuthError } from '../src/errors'
import {
  decryptPush,
  encodingAesKeyBytes,
  importPushKey,
  pushSignature,
  verifyPushSignature,
} from '../src/platforms/wechat/push'
import { parseWeChatXml } from '../src/platforms/wechat/xml'
// Made by node:crypto, not by our code: `node scripts/make-push-fixtures.mjs`.
import fixtures from './fixtures/push.json'

const { valid, invalid } = fixtures.decrypt
const appIds = [fixtures.appId, 'wx0000000000second']
const fromHex = (hex: string) =>
  Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16))

describe('message push crypto against node:crypto vectors', () => {
  it('the fixtures were made by the script, with the command written in them', () => {
    expect(fixtures.generatedBy).toBe('node scripts/make-push-fixtures.mjs')
    expect(valid.map((v) => v.padLength)).toEqual(expect.arrayContaining([32, 20, 5]))
    expect(invalid.length).toBeGreaterThanOrEqual(15)
  })

  it.each(valid.map((v) => [v.name, v] as const))('decrypts %s', async (_name, v) => {
    const key = await importPushKey(fixtures.encodingAesKey)
    expect(await decryptPush(v.encrypt, key, appIds)).toEqual({
      message: v.message,
      appId: v.appId,
    })
  })

  it.each(valid.map((v) => [v.name, v] as const))(
    'the emulator seals %s byte for byte as node does',
    async (_name, v) => {
      const sealed = await sealPush(fixtures.encodingAesKey, v.appId, v.message, fromHex(v.random))
      expect(sealed).toBe(v.encrypt)
    },
  )

  it.each(fixtures.signatures.map((v) => [v.signature, v] as const))(
    'signs %s as node does',
    async (_sig, { signature, ...parts }) => {
      const values = Object.values(parts)
      expect(await pushSignature(...values)).toBe(signature)
      expect(await verifyPushSignature(signature, ...values)).toBe(true)
      expect(await verifyPushSignature(signature.toUpperCase(), ...values)).toBe(false)
      const flipped = `${signature.slice(0, 39)}${signature.endsWith('0') ? '1' : '0'}`
      expect(await verifyPushSignature(flipped, ...values)).toBe(false)
      expect(await verifyPushSignature(undefined, ...values)).toBe(false)
    },
  )

  it('reads an EncodingAESKey whose last character has unused bits set, and refuses others', () => {
    expect(encodingAesKeyBytes(fixtures.encodingAesKey)?.length).toBe(32)
    expect(encodingAesKeyBytes(fixtures.encodingAesKey.slice(1))).toBeNull()
    expect(encodingAesKeyBytes(`${fixtures.encodingAesKey}A`)).toBeNull()
    expect(encodingAesKeyBytes(`${fixtures.encodingAesKey.slice(1)}=`)).toBeNull()
    expect(encodingAesKeyBytes(`${fixtures.encodingAesKey.slice(1)}-`)).toBeNull()
  })
})

describe('decryptPush fails closed, with one code', () => {
  let warn: ReturnType<typeof vi.spyOn>
  beforeEach(() => {
    warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
  })
  afterEach(() => warn.mockRestore())

  it.each(invalid.map((v) => [v.name, v] as const))('rejects %s', async (_name, v) => {
    const key = await importPushKey(fixtures.encodingAesKey)
    const err = await decryptPush(v.encrypt, key, appIds).then(
      () => null,
      (e: unknown) => e,
    )
    expect(isWxaAuthError(err, 'WECHAT_EVENT_SIGNATURE_INVALID'), String(err)).toBe(true)
    // Which check failed rides in the cause, for the log; no key in it.
    const check = String(((err as Error).cause as Error).message)
    expect(check).not.toBe('')
    expect(check).not.toContain(fixtures.encodingAesKey)
    expect(warn).not.toHaveBeenCalled()
  })

  it('refuses a message sealed for an app that is not ours', async () => {
    const key = await importPushKey(fixtures.encodingAesKey)
    const [first] = valid
    await expect(decryptPush(first?.encrypt ?? '', key, ['wx0000000000second'])).rejects.toThrow(
      /not signed/,
    )
  })
})

describe('parseWeChatXml', () => {
  it('reads WeChat’s sample, with the declaration, whitespace and bare numbers', () => {
    const text = `<?xml version="1.0" encoding="utf-8"?>
<xml>
  <ToUserName><![CDATA[gh_870882ca4b1]]></ToUserName>
  <FromUserName><![CDATA[owAqB1v0ahK_Xlc7GshIDdf2yf7E]]></FromUserName>
  <CreateTime>1626857200</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[user_authorization_revoke]]></Event>
  <OpenID><![CDATA[owAqB1nqaOYYWl0Ng484G2z5NIwU]]></OpenID>
  <AppID><![CDATA[wx13974bf780d3dc89]]></AppID>
  <RevokeInfo><![CDATA[1]]></RevokeInfo>
</xml>
`
    expect(parseWeChatXml(text)).toEqual({
      ToUserName: 'gh_870882ca4b1',
      FromUserName: 'owAqB1v0ahK_Xlc7GshIDdf2yf7E',
      CreateTime: '1626857200',
      MsgType: 'event',
      Event: 'user_authorization_revoke',
      OpenID: 'owAqB1nqaOYYWl0Ng484G2z5NIwU',
      AppID: 'wx13974bf780d3dc89',
      RevokeInfo: '1',
    })
  })

  it('reads a group one level down, empty fields, entities and CDATA with markup inside', () => {
    expect(
      parseWeChatXml(
        '<xml><RevokeInfo><Item><![CDATA[6]]></Item><Scope>8</Scope></RevokeInfo><Empty></Empty><T>a &lt;b&gt; &amp; &#x1F43C;&#20013;</T><C><![CDATA[<b>&amp;</b>]]></C></xml>',
      ),
    ).toEqual({
      RevokeInfo: { Item: '6', Scope: '8' },
      Empty: '',
      T: 'a <b> & 🐼中',
      C: '<b>&amp;</b>',
    })
  })

  it('keeps a field named __proto__ as a field', () => {
    const fields = parseWeChatXml('<xml><__proto__>x</__proto__></xml>')
    expect(Object.hasOwn(fields, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype)
  })

  it.each([
    ['no root', 'hello'],
    ['another root', '<root><A>1</A></root>'],
    ['a DOCTYPE', '<!DOCTYPE xml [<!ENTITY x "y">]><xml><A>&x;</A></xml>'],
    ['an external entity', '<xml><A>&xxe;</A></xml>'],
    ['a comment', '<xml><!-- hi --><A>1</A></xml>'],
    ['a processing instruction', '<xml><?pi x?><A>1</A></xml>'],
    ['an attribute', '<xml><A id="1">1</A></xml>'],
    ['an attribute on the root', '<xml a="1"><A>1</A></xml>'],
    ['a self-closing tag', '<xml><A/></xml>'],
    ['a mismatched close', '<xml><A>1</B></xml>'],
    ['an unclosed root', '<xml><A>1</A>'],
    ['text after the root', '<xml><A>1</A></xml>x'],
    ['a second root', '<xml><A>1</A></xml><xml></xml>'],
    ['a repeated field', '<xml><A>1</A><A>2</A></xml>'],
    ['mixed content', '<xml><A>1<B>2</B></A></xml>'],
    ['text beside fields', '<xml>x<A>1</A></xml>'],
    ['text beside CDATA', '<xml><A>x<![CDATA[1]]></A></xml>'],
    ['two CDATA sections', '<xml><A><![CDATA[1]]><![CDATA[2]]></A></xml>'],
    ['an unterminated CDATA', '<xml><A><![CDATA[1</A></xml>'],
    ['three levels', '<xml><A><B><C>1</C></B></A></xml>'],
    ['a bare ampersand', '<xml><A>a & b</A></xml>'],
    ['a stray >', '<xml><A>a > b</A></xml>'],
    ['a NUL reference', '<xml><A>&#0;</A></xml>'],
    ['a surrogate reference', '<xml><A>&#xD800;</A></xml>'],
    ['a byte-order mark', '\uFEFF<xml><A>1</A></xml>'],
    ['a name starting with a digit', '<xml><1A>1</1A></xml>'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseWeChatXml(text)).toThrow(/^XML: /)
  })
})
