// `node bench/workerd-crypto.mjs`: whether node:crypto (under nodejs_compat)
// is cheaper than WebCrypto in workerd for what a cold token costs there: an
// HMAC-SHA256 verify and a SHA-256. A Worker loops each N times per request
// in the isolate; the CPU is workerd's (utime + stime from /proc), per
// operation. On Node node:crypto is ~10 × cheaper (src/util/native-crypto.ts);
// in workerd it measured no cheaper (2026-12-07, four rounds: HMAC 6.5–10
// µs WebCrypto against 7.5–9.5 node:crypto; SHA-256 3.0–5.5 against
// 4.0–5.5), so Workers keep WebCrypto.
import { Miniflare } from 'miniflare'
import { commandOf, cpuOf, tree } from './proc.mjs'

const N = 2000 // operations per request
const REQUESTS = 10 // per mode and round
const script = `
import { createHash, createHmac } from 'node:crypto'
const encoder = new TextEncoder()
const secret = 'q8WfX2kLp0Zr7TnB4vYc1HsJ6mNd3Ga9Ue5Ri0Ow2Kx'
const signed = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6Im1haW4ifQ.' + 'a'.repeat(250)
let key
export default {
  async fetch(request) {
    const url = new URL(request.url)
    const n = Number(url.searchParams.get('n'))
    const mode = url.pathname.slice(1)
    key ??= await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
    const signature = new Uint8Array(32)
    for (let i = 0; i < n; i++) {
      if (mode === 'webcrypto-hmac') await crypto.subtle.verify('HMAC', key, signature, encoder.encode(signed + i))
      else if (mode === 'node-hmac') createHmac('sha256', secret).update(signed + i).digest()
      else if (mode === 'webcrypto-sha256') await crypto.subtle.digest('SHA-256', encoder.encode('sid-' + i))
      else if (mode === 'node-sha256') createHash('sha256').update('sid-' + i).digest()
    }
    return new Response('ok')
  },
}`

const before = new Set(tree(process.pid))
const mf = new Miniflare({
  modules: true,
  script,
  compatibilityDate: '2026-07-30',
  compatibilityFlags: ['nodejs_compat'],
})
try {
  const url = await mf.ready
  const workerd = tree(process.pid).filter((p) => !before.has(p) && commandOf(p) === 'workerd')
  const modes = ['none', 'webcrypto-hmac', 'node-hmac', 'webcrypto-sha256', 'node-sha256']
  for (const round of [0, 1, 2]) {
    for (const mode of modes) {
      const n = mode === 'none' ? 0 : N
      const cpu = cpuOf(workerd)
      for (let r = 0; r < REQUESTS; r++) await (await fetch(`${url}${mode}?n=${n}`)).text()
      const us = ((cpuOf(workerd) - cpu) * 1e6) / (N * REQUESTS)
      // Round 0 warms up.
      if (round > 0) console.log(`round ${round}: ${mode}: ${us.toFixed(2)} µs CPU per operation`)
    }
  }
} finally {
  await mf.dispose()
}
