// `npm run build:worker` (part of `npm run build`): bundles the production
// Worker into build/worker/ as `wrangler deploy` would (without deploying),
// checks that no development code is in it, and prints its size. dist/ is the
// npm package's (`npm run build:lib`).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { wrangler } from './wrangler.mjs'

// 0.4 moved it from 50 KiB: two tokens, avatars walked and stripped of
// metadata, guessable-secret and deep-JSON checks, the Cloud Hosting mode's
// header login (53.2 KiB), Alipay (60.7 KiB: its RSA2 keys and certificates
// read from PEM and DER, MD5 for the certificate SNs, its gateway), the PC's
// scan-to-login (63.5 KiB), WeChat's web and App doors (66.9 KiB), and the
// operators' tree (81.9 KiB): the directory and audit log over D1 (+3.5),
// bans and the admin API with its OpenAPI descriptions (+4.7), the console
// page with both languages (+5.4). The console and API serve the same
// Durable Objects, so they ship in the one Worker; without ADMIN_KEYS they
// answer 404 but are still parsed at start. 85 KiB with Hono's RegExpRouter
// (+1.3) in place of hono/tiny's PatternRouter: one regular expression for
// all 127 routes, where PatternRouter tries each route in turn (about 35 ns a
// match against 1.6 to 2.1 µs; on Node, 6 µs less for /healthz and 15 for /me).
export const GZIP_BUDGET = 85 * 1024 // bytes
export const OUT_DIR = 'build/worker'

const code = await wrangler(['deploy', '--dry-run', '--env', 'production', '--outdir', OUT_DIR], {
  stdio: ['ignore', 'ignore', 'inherit'],
})
if (code !== 0) process.exit(code)

const bundle = readFileSync(join(OUT_DIR, 'worker.js'))
const text = bundle.toString('utf8')
// What only the dev entry (src/dev.ts) may carry: the emulator, the playground, the SDK test routes.
const devOnly = [
  'class PlatformEmulator',
  'class WeChatEmulator',
  'wxa-auth playground',
  '/__emulator/',
  '/__dev',
  'emulator-app-secret-not-a-secret',
]
const found = devOnly.filter((marker) => text.includes(marker))
if (found.length) {
  console.error(`the production bundle carries development code: ${found.join(', ')}`)
  process.exit(1)
}
const gzip = gzipSync(bundle).length
/** @param {number} n bytes */
const kib = (n) => (n / 1024).toFixed(1)
console.log(
  `production bundle (${OUT_DIR}/worker.js): ${kib(bundle.length)} KiB, ${kib(gzip)} KiB gzip; budget ${kib(GZIP_BUDGET)} KiB gzip; no development code`,
)
if (gzip > GZIP_BUDGET) process.exit(1)
