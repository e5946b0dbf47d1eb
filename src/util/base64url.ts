/** Bytes as base64url without padding (RFC 4648 §5). */
export function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * The bytes of a binary string (what `atob` returns). A loop: about ten
 * times cheaper than `Uint8Array.from(binary, fn)`, which calls back per byte.
 */
export function bytesOf(binary: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** `Uint8Array.fromBase64` where the runtime has it (workerd; Node from V8 14). */
const native = Uint8Array as unknown as {
  fromBase64?: (text: string, options: { alphabet: 'base64url' }) => Uint8Array<ArrayBuffer>
}

/**
 * The bytes of base64url text, the unused bits of its last character ignored
 * (as `atob` and jose ignore them); throws when it is not base64url. Like
 * both, it skips whitespace: callers check for `[\w-]` first. One native
 * call where the runtime has `Uint8Array.fromBase64`, with no binary string
 * between.
 */
export function bytesOfBase64url(text: string): Uint8Array<ArrayBuffer> {
  return native.fromBase64
    ? native.fromBase64(text, { alphabet: 'base64url' })
    : bytesOf(atob(text.replace(/-/g, '+').replace(/_/g, '/')))
}
