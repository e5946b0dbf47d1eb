// Taro 4, React, webpack5: `taro build --type h5` writes dist/.
module.exports = {
  projectName: 'wxa-auth-h5-taro',
  date: '2026-12-7',
  designWidth: 750,
  deviceRatio: { 640: 2.34 / 2, 750: 1, 375: 2, 828: 1.81 / 2 },
  sourceRoot: 'src',
  outputRoot: 'dist',
  plugins: [],
  defineConstants: {},
  copy: { patterns: [], options: {} },
  framework: 'react',
  compiler: 'webpack5',
  cache: { enable: false },
  mini: {},
  h5: { publicPath: './', staticDirectory: 'static', router: { mode: 'hash' } },
}
