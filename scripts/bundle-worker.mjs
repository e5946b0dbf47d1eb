// A Worker entry bundled in memory as wrangler would bundle it (esbuild, the
// workerd conditions, `cloudflare:*` and `node:*` left to the runtime): for
// the multi-isolate tests and the Node bench, which load it into Miniflare.
import { build } from 'esbuild'

/** The bundled module's text. */
export async function bundleWorker(entry) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:*', 'node:*'],
    write: false,
    logLevel: 'warning',
  })
  return result.outputFiles[0].text
}
