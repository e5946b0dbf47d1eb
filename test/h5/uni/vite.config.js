// uni-app's own vite plugin (Vue 3): `uni build` (-p h5) writes dist/build/h5.
import plugin from '@dcloudio/vite-plugin-uni'
import { defineConfig } from 'vite'

// A CommonJS module whose `exports.default` is the plugin (as the templates' vite.config.ts sees it).
const uni = plugin.default ?? plugin

export default defineConfig({ plugins: [uni()] })
