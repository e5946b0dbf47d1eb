// `npm run size`: the client SDK as a mini program gets it (ES2017, CommonJS,
// one file, minified) and its gzip size; fails over the budget, or if the
// bundle needs anything at run time (a require()).
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

// 0.4 moved it from 5 KiB: the refresh token with its lost-answer retry,
// cloudAdapter, and the H5 adapters that take methods one by one.
export const BUDGET = 6 * 1024 // bytes, gzip

const { outputFiles } = await build({
  entryPoints: ['client/src/index.ts'],
  bundle: true,
  minify: true,
  format: 'cjs',
  target: 'es2017',
  write: false,
  outfile: 'wxa-auth.min.js',
  logLevel: 'warning',
})
const code = outputFiles[0]?.contents ?? new Uint8Array()
const gzip = gzipSync(code, { level: 9 }).length
/** @param {number} bytes */
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`
console.log(
  `client SDK: ${kib(code.length)} minified (${code.length} B), ${kib(gzip)} gzip (${gzip} B); budget ${kib(BUDGET)} gzip`,
)
if (/\brequire\(/.test(new TextDecoder().decode(code))) {
  console.error('client SDK: the bundle requires a module at run time')
  process.exit(1)
}
if (gzip > BUDGET) {
  console.error('client SDK: over budget')
  process.exit(1)
}
