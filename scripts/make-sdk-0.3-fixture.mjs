// Makes test/fixtures/sdk-0.3.cjs: the mini program SDK of wxa-auth 0.3
// (client/src/ at commit 7278af3, the last commit before 0.4's two tokens),
// bundled once with esbuild, so that client/test/upgrade-0.3.test.ts can run
// a 0.3 client against today's server. Run it again only if that commit's
// SDK must be rebuilt: `node scripts/make-sdk-0.3-fixture.mjs`.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'

const COMMIT = '7278af3'
const OUT = 'test/fixtures/sdk-0.3.cjs'

/** @param {string[]} args */
const git = (...args) => execFileSync('git', args, { encoding: 'utf8' })
const dir = mkdtempSync(join(tmpdir(), 'wxa-sdk-0.3-'))
try {
  const files = git('ls-tree', '-r', '--name-only', COMMIT, 'client/src/')
    .split('\n')
    .filter(Boolean)
  for (const file of files) {
    writeFileSync(join(dir, file.slice('client/src/'.length)), git('show', `${COMMIT}:${file}`))
  }
  await build({
    // From the temp dir, so that the path comments say `index.ts`, not it.
    absWorkingDir: dir,
    entryPoints: ['index.ts'],
    bundle: true,
    format: 'cjs',
    platform: 'neutral',
    target: 'es2020',
    outfile: resolve(OUT),
    legalComments: 'none',
    banner: {
      js: `// The wxa-auth 0.3 mini program SDK (client/src/ at ${COMMIT}), bundled by\n// scripts/make-sdk-0.3-fixture.mjs for client/test/upgrade-0.3.test.ts. Do not edit.`,
    },
  })
} finally {
  rmSync(dir, { recursive: true, force: true })
}
