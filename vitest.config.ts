import { randomBytes } from 'node:crypto'
import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml', environment: 'dev' },
      miniflare: {
        // Secrets are made per run: none lives in the repo.
        compatibilityFlags: ['nodejs_compat'],
        bindings: {
          JWT_SECRET: randomBytes(32).toString('base64url'),
          WECHAT_TIMEOUT_MS: '1000',
        },
      },
    }),
  ],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
  },
})
