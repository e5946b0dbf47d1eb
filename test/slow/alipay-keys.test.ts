// Alipay's keys and certificates as OpenSSL writes them (made here, per run):
// the reader of src/platforms/alipay against a writer that is not ours. The
// SNs are computed here the way Alipay documents them (md5 of the issuer as
// RFC 2253 writes it and the decimal serial), with Node's own md5.
import { execFileSync } from 'node:child_process'
import { createHash, createPublicKey, verify } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  certificateSn,
  certificates,
  importSigningKey,
  importVerifyingKey,
  privateKeyDer,
  publicKeyDer,
  rootCertSn,
  rsa2Sign,
  rsa2Verify,
  signingString,
} from '../../src/platforms/alipay/keys'
import { md5Hex } from '../../src/platforms/alipay/md5'

const dir = mkdtempSync(join(tmpdir(), 'wxa-alipay-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
const file = (name: string) => readFileSync(join(dir, name), 'utf8')

const ROOT_SUBJECT =
  '/C=CN/O=Ant Financial/OU=Certification Authority/CN=Ant Financial Certification Authority R1'
const ROOT_NAME =
  'CN=Ant Financial Certification Authority R1,OU=Certification Authority,O=Ant Financial,C=CN'

// A root (sha256WithRSA), an EC root (left out of the root SN), and an app certificate it issued.
ssl(
  'req',
  '-x509',
  '-newkey',
  'rsa:2048',
  '-nodes',
  '-keyout',
  'root.key',
  '-out',
  'root.crt',
  '-subj',
  ROOT_SUBJECT,
  '-days',
  '2',
  '-sha256',
  '-set_serial',
  '0x1f2e3d4c5b6a79881234',
)
ssl(
  'req',
  '-x509',
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:prime256v1',
  '-nodes',
  '-keyout',
  'ec.key',
  '-out',
  'ec.crt',
  '-subj',
  '/C=CN/O=Ant Financial/CN=EC Root',
  '-days',
  '2',
)
ssl('genrsa', '-traditional', '-out', 'app-pkcs1.key', '2048')
ssl('pkcs8', '-topk8', '-nocrypt', '-in', 'app-pkcs1.key', '-out', 'app-pkcs8.key')
ssl(
  'req',
  '-new',
  '-key',
  'app-pkcs1.key',
  '-out',
  'app.csr',
  '-subj',
  '/C=CN/O=wxa-auth/CN=2021000000000001',
)
ssl(
  'x509',
  '-req',
  '-in',
  'app.csr',
  '-CA',
  'root.crt',
  '-CAkey',
  'root.key',
  '-out',
  'app.crt',
  '-days',
  '2',
  '-sha256',
  '-set_serial',
  '4096',
)
ssl('rsa', '-in', 'app-pkcs1.key', '-pubout', '-out', 'app-pub.pem')
ssl('rsa', '-in', 'app-pkcs1.key', '-RSAPublicKey_out', '-out', 'app-pub-pkcs1.pem')

const sn = (issuer: string, serial: bigint) =>
  createHash('md5')
    .update(issuer + serial.toString(10))
    .digest('hex')

describe('certificates as OpenSSL writes them', () => {
  it('an app certificate: the issuer as RFC 2253 writes it, the decimal serial, its SN', () => {
    const [app] = certificates(file('app.crt'))
    expect(app?.issuer).toBe(ROOT_NAME)
    expect(app?.serial).toBe('4096')
    expect(certificateSn(app as never)).toBe(sn(ROOT_NAME, 4096n))
    // Its public key is the app key's.
    const spki = createPublicKey(file('app-pub.pem')).export({ format: 'der', type: 'spki' })
    expect(Buffer.from(app?.spki ?? []).equals(spki)).toBe(true)
  })

  it('the root SN joins the RSA certificates’ SNs with _ and leaves the EC one out', () => {
    const chain = certificates(file('root.crt') + file('ec.crt') + file('root.crt'))
    const one = sn(ROOT_NAME, 0x1f2e3d4c5b6a79881234n)
    expect(rootCertSn(chain)).toBe(`${one}_${one}`)
    expect(rootCertSn(certificates(file('ec.crt')))).toBe('')
  })

  it('md5 is MD5', () => {
    for (const text of ['', 'abc', 'a'.repeat(55), 'a'.repeat(64), ROOT_NAME, '支付宝']) {
      expect(md5Hex(text)).toBe(createHash('md5').update(text).digest('hex'))
    }
  })
})

describe('keys as OpenSSL writes them', () => {
  const content = signingString({ app_id: '2021000000000001', method: 'x', sign: 'no', empty: '' })

  it.each([
    ['PKCS#1 PEM', () => file('app-pkcs1.key'), 'pkcs1'],
    ['PKCS#8 PEM', () => file('app-pkcs8.key'), 'pkcs8'],
    ['bare PKCS#1 base64', () => file('app-pkcs1.key').replace(/-----[^-]+-----|\s/g, ''), 'pkcs1'],
    ['bare PKCS#8 base64', () => file('app-pkcs8.key').replace(/-----[^-]+-----|\s/g, ''), 'pkcs8'],
  ])('%s signs what OpenSSL’s public key verifies (RSA2)', async (_name, text, form) => {
    const key = privateKeyDer(text())
    expect(key.form).toBe(form)
    const sign = await rsa2Sign(await importSigningKey(key.der), content)
    expect(
      verify('sha256', Buffer.from(content), file('app-pub.pem'), Buffer.from(sign, 'base64')),
    ).toBe(true)
    for (const pub of [file('app-pub.pem'), file('app-pub-pkcs1.pem'), file('app.crt')]) {
      const verifying = await importVerifyingKey(publicKeyDer(pub).der)
      expect(await rsa2Verify(verifying, content, sign)).toBe(true)
      expect(await rsa2Verify(verifying, `${content}x`, sign)).toBe(false)
    }
  })

  it('the signing string: sorted, non-empty, without sign', () => {
    expect(content).toBe('app_id=2021000000000001&method=x')
  })

  it('refuses what is not a key', () => {
    expect(() => privateKeyDer(file('app-pub.pem'))).toThrow()
    expect(() => privateKeyDer('not base64!')).toThrow()
    expect(() => publicKeyDer(file('app-pkcs8.key'))).toThrow()
    expect(() => certificates(file('app-pub.pem'))).toThrow()
  })
})
