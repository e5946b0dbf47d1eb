import { randomBytes } from 'node:crypto'
import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'
import type { Reporter } from 'vitest/node'

/** Tests that wrote to stderr (by id), to hold a passing run to reading clean. */
const wroteToStderr = new Set<string>()

/**
 * Ends the run with a plain `N passed, N failed, N skipped` line that any CI
 * can read, and fails a run in which a passing test wrote to stderr: a test
 * that expects a warning holds it back (test/quiet-console.ts does it for
 * console.warn and console.error), so that a failure's output stands out.
 */
const summary: Reporter = {
  onUserConsoleLog(log) {
    if (log.type === 'stderr' && log.taskId) wroteToStderr.add(log.taskId)
  },
  onTestRunEnd(modules) {
    const counts = { passed: 0, failed: 0, skipped: 0, pending: 0 }
    const noisy: string[] = []
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const { state } = test.result()
        counts[state]++
        if (state === 'passed' && wroteToStderr.has(test.id)) noisy.push(test.fullName)
      }
    }
    if (noisy.length) {
      console.log(`vitest: passing tests wrote to stderr:\n  ${noisy.join('\n  ')}`)
      process.exitCode = 1
    }
    console.log(
      `vitest: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
    )
  },
}

export default defineConfig({
  test: {
    reporters: ['default', summary],
    testTimeout: 20_000,
    // Logs of passing tests are held back; a failing test prints its own.
    setupFiles: ['test/quiet-console.ts'],
    projects: [
      {
        extends: true,
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml', environment: 'dev' },
            miniflare: {
              // Secrets are made per run: none lives in the repo.
              compatibilityFlags: ['nodejs_compat'],
              // The production limits, whatever [env.dev] says.
              ratelimits: {
                LOGIN_RATE_LIMITER: { namespace_id: '2001', simple: { limit: 30, period: 60 } },
                USER_RATE_LIMITER: { namespace_id: '2002', simple: { limit: 30, period: 60 } },
              },
              bindings: {
                JWT_SECRET: randomBytes(32).toString('base64url'),
                STORAGE_SECRET: randomBytes(32).toString('base64url'),
                WECHAT_TIMEOUT_MS: '1000',
              },
            },
          }),
        ],
        test: {
          name: 'worker',
          include: ['test/**/*.test.ts'],
          exclude: [
            'test/http/**',
            'test/isolates/**',
            'test/docs/**',
            'test/chaos/**',
            'test/unit/**',
            'test/slow/**',
            'test/shapes/**',
            'test/node/**',
            // Its own package (npm run test:h5); node_modules/wxa-auth there links back here.
            'test/h5/**',
          ],
        },
      },
      {
        // `npm run test:unit`, in about a second: pure tests in Node, no
        // workerd, no server, no child process (the session rules on the
        // in-memory store, parsers, claims). Slower checks are in test/slow/.
        extends: true,
        test: {
          name: 'unit',
          environment: 'node',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        // In Node: several isolates of the bundled Worker in one Miniflare,
        // sharing KV and the session objects (stale copies must not undo
        // revocations); the README's tables against the code; the production
        // Worker against servers written from the platforms' documentation;
        // slower checks (test/slow/: the deploy check runs wrangler's parser,
        // the secrets check draws 40,000 secrets).
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: [
            'test/isolates/**/*.test.ts',
            'test/docs/**/*.test.ts',
            'test/slow/**/*.test.ts',
            'test/shapes/**/*.test.ts',
          ],
        },
      },
      {
        // wxa-auth on Node with Redis: the built server (dist/node.js) as three
        // processes on Node 20 and 24 sharing one Redis of the test's own
        // (Debian's redis-server), the Redis adapters, the Node emulator.
        extends: true,
        test: {
          name: 'redis',
          environment: 'node',
          include: ['test/node/**/*.test.ts'],
          globalSetup: ['test/node/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The three-process suite on one Redis node (three-processes.test.ts
        // runs threeProcesses() of three-processes.ts) again in the WeChat Cloud Hosting mode
        // (CLOUD_HOSTING=wechat): logins from the gateway's X-WX-* headers, the
        // client address from X-Original-Forwarded-For, WeChat's API through
        // the open interface service (a plain-http relay of the test).
        extends: true,
        test: {
          name: 'redis-cloud-hosting',
          environment: 'node',
          include: ['test/node/three-processes.test.ts'],
          globalSetup: ['test/node/global-setup.ts'],
          env: { WXA_TEST_CLOUD_HOSTING: '1' },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // `npm run test:chaos`: a seeded random workload over several isolates
        // that share KV and the session objects, and over three Node processes
        // that share one Redis, each killed halfway and restarted from disk,
        // then checked for session safety; and the checker's tests.
        extends: true,
        test: {
          name: 'chaos',
          environment: 'node',
          include: ['test/chaos/**/*.test.ts'],
          // The Node cluster runs the built server (dist/node.js).
          globalSetup: ['test/node/global-setup.ts'],
        },
      },
      {
        // Over HTTP against the real Worker (`npm run dev`): the mini program SDK,
        // the OpenAPI document, the playground and /docs in Chromium.
        extends: true,
        test: {
          name: 'http',
          environment: 'node',
          include: ['client/test/**/*.test.ts', 'test/http/**/*.test.ts'],
          globalSetup: ['client/test/global-setup.ts'],
        },
      },
    ],
  },
})
