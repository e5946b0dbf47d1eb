import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'tsdown'

// Declarations come from the project's own TypeScript 7 (its native `tsc`,
// which rolldown-plugin-dts runs as it would run `tsgo`), then are bundled.
const tsgo = { path: fileURLToPath(new URL('node_modules/typescript/bin/tsc', import.meta.url)) }

export default defineConfig([
  {
    // `wxa-auth` (runtime-neutral), `wxa-auth/cloudflare`, `wxa-auth/node`,
    // `wxa-auth/wechat`, `wxa-auth/testing`, `wxa-auth/testing/node` and
    // `wxa-auth/testing/client`: ESM, sharing chunks so that all see one
    // WxaAuthError class.
    entry: {
      index: 'src/index.ts',
      cloudflare: 'src/runtime/cloudflare/index.ts',
      node: 'src/runtime/node/index.ts',
      wechat: 'src/platforms/wechat/index.ts',
      testing: 'src/testing.ts',
      'testing/client': 'src/testing-client.ts',
      'testing/node': 'src/testing-node.ts',
      // `npx wxa-auth-emulator` (package.json `bin`).
      emulator: 'src/emulator-bin.ts',
    },
    tsconfig: 'tsconfig.build.json',
    platform: 'neutral',
    target: 'es2022',
    format: 'esm',
    outDir: 'dist',
    dts: { tsgo },
    // The Node entries load `redis` and `@hono/node-server` (optional peers) only when used.
    deps: { neverBundle: [/^cloudflare:/, /^node:/, 'redis', /^@hono\/node-server/] },
  },
  {
    // `wxa-auth/client`: the mini program SDK as ESM for bundlers (Taro,
    // uni-app), and CommonJS for `wxa-auth/client/miniprogram`; ES2017 both,
    // as mini programs run it.
    entry: { index: 'client/src/index.ts' },
    tsconfig: 'client/tsconfig.build.json',
    platform: 'neutral',
    target: 'es2017',
    format: ['esm', 'cjs'],
    outDir: 'dist/client',
    dts: { tsgo },
    // WeChat DevTools' "构建 npm" (Build npm) copies the package's `miniprogram`
    // folder into `miniprogram_npm/wxa-auth/`: the CommonJS SDK as `index.js`
    // (`require('wxa-auth')`) and `client/index.js` (`require('wxa-auth/client')`).
    onSuccess() {
      mkdirSync('dist/miniprogram/client', { recursive: true })
      copyFileSync('dist/client/index.cjs', 'dist/miniprogram/index.js')
      writeFileSync('dist/miniprogram/client/index.js', "module.exports = require('../index.js')\n")
    },
  },
  {
    // `wxa-auth/web`: the browser's client (an Official Account page, a
    // website, a PC's scan-to-login) on its own, so that the mini program
    // SDK stays as small as it is; ESM and CommonJS.
    entry: { index: 'client/src/web.ts' },
    tsconfig: 'client/tsconfig.build.json',
    platform: 'browser',
    target: 'es2017',
    format: ['esm', 'cjs'],
    outDir: 'dist/web',
    dts: { tsgo },
  },
])
