/**
 * The runtime's synchronous HMAC-SHA256 and SHA-256, where it has them. On
 * Node, WebCrypto's async `verify` and `digest` cost about 30 µs a call where
 * `node:crypto` costs 1–3 µs: the difference between a token's first use and
 * its second. Elsewhere (Workers, browsers) there is none and the callers use
 * WebCrypto, as they always did.
 */
export interface NativeCrypto {
  /** The runtime's HMAC-SHA256 key of a secret's UTF-8 (Node: a KeyObject). */
  hmacKey(secret: string): NativeKey
  /**
   * Whether `signature` (base64url) is the HMAC-SHA256 of the UTF-8 of
   * `data` under `key`, compared in time that does not depend on where they differ.
   */
  verifyHmacSha256(key: NativeKey, data: string, signature: string): boolean
  /** SHA-256 of the UTF-8 of `data`, base64url. */
  sha256(data: string): string
  /** The UTF-8 text of base64url (invalid sequences become U+FFFD). */
  base64urlText(segment: string): string
}

/** A key of the runtime's own kind, made by {@link NativeCrypto.hmacKey}. */
export type NativeKey = object & { readonly __nativeKey?: never }

/** What this module uses of `node:crypto` and `node:buffer`, typed here: the core is built without Node's types. */
interface NodeCryptoModule {
  createHmac(alg: 'sha256', key: object): Digester
  createHash(alg: 'sha256'): Digester
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean
  createSecretKey(key: Uint8Array): object
}
interface Digester {
  update(data: string): Digester
  digest(): Uint8Array
  digest(encoding: 'base64url'): string
}
interface NodeBufferModule {
  Buffer: {
    from(text: string, encoding: 'base64url'): Uint8Array & { toString(): string }
  }
}

/** `node:crypto` as a {@link NativeCrypto}. */
function fromNode(mod: NodeCryptoModule, { Buffer }: NodeBufferModule): NativeCrypto {
  const encoder = new TextEncoder()
  return {
    hmacKey: (secret) => mod.createSecretKey(encoder.encode(secret)),
    verifyHmacSha256(key, data, signature) {
      const mac = mod.createHmac('sha256', key).update(data).digest()
      const given = Buffer.from(signature, 'base64url')
      return given.length === mac.length && mod.timingSafeEqual(mac, given)
    },
    sha256: (data) => mod.createHash('sha256').update(data).digest('base64url'),
    base64urlText: (segment) => Buffer.from(segment, 'base64url').toString(),
  }
}

/**
 * `node:crypto` on Node (through `process.getBuiltinModule`, so that no
 * bundle for Workers imports it); null on Workers, even under `nodejs_compat`
 * (there WebCrypto is the measured path), and wherever else it is missing.
 */
function detect(): NativeCrypto | null {
  const global = globalThis as {
    navigator?: { userAgent?: string }
    process?: { getBuiltinModule?: (id: string) => unknown }
  }
  if (global.navigator?.userAgent === 'Cloudflare-Workers') return null
  const load = global.process?.getBuiltinModule
  const mod = load?.('node:crypto') as NodeCryptoModule | undefined
  const buffer = load?.('node:buffer') as NodeBufferModule | undefined
  return mod && buffer ? fromNode(mod, buffer) : null
}

let current: NativeCrypto | null | undefined

/** The runtime's {@link NativeCrypto}, or null: then use WebCrypto. */
export function nativeCrypto(): NativeCrypto | null {
  if (current === undefined) current = detect()
  return current
}

/**
 * Sets what {@link nativeCrypto} answers (null: WebCrypto only); undefined
 * detects again. For tests that run both paths side by side.
 * @internal
 */
export function useNativeCrypto(crypto: NativeCrypto | null | undefined): void {
  current = crypto
}
