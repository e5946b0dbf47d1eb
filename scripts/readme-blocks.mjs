// Every TypeScript block of the READMEs and of the docs site's pages (docs/**/*.md), written to files in an
// installed copy of examples/hono-worker and type-checked there as printed:
// the server's blocks against the Workers types, the SDK's (those importing
// `wxa-auth/client` or `wxa-auth/web`) against the mini program's types (`wx`), Taro's and
// uni-app's, once with the example's TypeScript (bundler resolution) and once
// with TypeScript 5 under moduleResolution "node", as the Taro and uni-app
// templates and WeChat's TypeScript quickstart have it, and once more under
// Taro's `module: "commonjs"` (no top-level await). A block may declare the
// app-side names it uses (`declare function db(…)`); a block that is a
// fragment on purpose is preceded by `<!-- not compiled: why -->`.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** What the SDK's blocks are checked with, installed next to the package (`npm install --no-save`). */
export const CLIENT_TYPES = [
  'miniprogram-api-typings@^5.2.3',
  '@tarojs/taro@^4',
  '@dcloudio/types@^3',
  'typescript5@npm:typescript@^5',
]

const SKIP = /<!-- not compiled: [^>]+ -->\s*$/

/**
 * The TypeScript blocks (fenced as ts) of a markdown text, with the line each starts on.
 * @param {string} text
 */
export function tsBlocks(text) {
  return [...text.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```$/gm)].map((match) => ({
    line: text.slice(0, match.index).split('\n').length,
    body: match[1] ?? '',
    skipped: SKIP.test(text.slice(0, match.index)),
  }))
}

const compilerOptions = {
  target: 'es2022',
  module: 'es2022',
  moduleResolution: 'bundler',
  // As strict as a host app may be: a block must compile in the strictest one.
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  isolatedModules: true,
  verbatimModuleSyntax: true,
  skipLibCheck: true,
  noEmit: true,
}

/**
 * The markdown files whose blocks are compiled: both READMEs and every page of the docs site.
 * @param {string} root the repository
 */
export function docFiles(root) {
  const pages = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.md') && !path.startsWith('.'))
    .map((path) => join('docs', path))
    .sort()
  return ['README.md', 'README.zh-CN.md', ...pages]
}

/**
 * Writes the blocks under `app/readme/` and runs tsc on them; throws with
 * tsc's errors, which name the markdown file and the line of the block.
 *
 * @param {string} root the repository (its READMEs and docs/)
 * @param {string} app the installed example
 * @param {(command: string, args: string[], options?: { cwd?: string }) => Promise<string>} run
 * @returns {Promise<number>} how many blocks compiled
 */
export async function compileReadmeBlocks(root, app, run) {
  const dir = join(app, 'readme')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, 'server'), { recursive: true })
  mkdirSync(join(dir, 'client'), { recursive: true })
  let count = 0
  for (const readme of docFiles(root)) {
    for (const { line, body, skipped } of tsBlocks(readFileSync(join(root, readme), 'utf8'))) {
      if (skipped) continue
      const side = /from 'wxa-auth\/(?:client|web)/.test(body) ? 'client' : 'server'
      // The file's name says where the block is: tsc's errors name it.
      const name = `${readme.replace(/\W+/g, '-')}line-${line}.ts`
      writeFileSync(join(dir, side, name), body)
      count++
    }
  }
  /** @type {(file: string, options: object, include: string[]) => void} */
  const config = (file, options, include) =>
    writeFileSync(join(dir, file), JSON.stringify({ compilerOptions: options, include }, null, 2))
  // `wrangler types` types `env` and `exports.default` from the example's wrangler.toml and entry.
  await run(join(app, 'node_modules/.bin/wrangler'), ['types', '--include-runtime=false'], {
    cwd: app,
  })
  config(
    'tsconfig.server.json',
    { ...compilerOptions, lib: ['es2024'], types: ['@cloudflare/workers-types'] },
    ['server', '../worker-configuration.d.ts'],
  )
  // Mini programs run ES2017; `wx` and `uni` are globals, and H5 builds have the DOM.
  const client = {
    ...compilerOptions,
    target: 'es2017',
    lib: ['es2017', 'dom'],
    types: ['miniprogram-api-typings', '@dcloudio/types'],
  }
  config('tsconfig.client.json', client, ['client'])
  config(
    'tsconfig.client-node10.json',
    {
      ...client,
      module: 'esnext',
      moduleResolution: 'node',
      allowSyntheticDefaultImports: true,
      verbatimModuleSyntax: false,
    },
    ['client'],
  )
  // Taro's templates (and WeChat's TypeScript quickstart) compile to CommonJS,
  // which has no top-level await: the SDK's blocks must compile there too.
  config(
    'tsconfig.client-taro.json',
    {
      ...client,
      module: 'commonjs',
      moduleResolution: 'node',
      allowSyntheticDefaultImports: true,
      verbatimModuleSyntax: false,
      isolatedModules: false,
    },
    ['client'],
  )
  const tsc = join(app, 'node_modules/.bin/tsc')
  const tsc5 = join(app, 'node_modules/typescript5/bin/tsc')
  /** @type {string[]} */
  const failures = []
  for (const [compiler, project] of [
    [tsc, 'tsconfig.server.json'],
    [tsc, 'tsconfig.client.json'],
    [tsc5, 'tsconfig.client-node10.json'],
    [tsc5, 'tsconfig.client-taro.json'],
  ]) {
    await run(compiler, ['-p', join(dir, project)], { cwd: dir }).catch(
      (/** @type {Error} */ error) => failures.push(`${project}:\n${error.message}`),
    )
  }
  if (failures.length) {
    throw new Error(
      `Code blocks of the docs do not compile (readme/<side>/<file>line-<first line>.ts(line, column)):\n${failures.join('\n')}`,
    )
  }
  return count
}
