// The Node tests run the built package (examples/node/*.mjs import
// `wxa-auth/node` by name, i.e. dist/): build it first when a source file
// is newer than the build, as `npm test` has already done by then.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const BUILT = ['dist/node.js', 'dist/testing/node.js']

function newest(dir: string): number {
  return Math.max(
    0,
    ...readdirSync(dir).map((name) => {
      const path = join(dir, name)
      const stat = statSync(path)
      return stat.isDirectory() ? newest(path) : stat.mtimeMs
    }),
  )
}

export default function setup() {
  const built = BUILT.map((file) => (existsSync(file) ? statSync(file).mtimeMs : 0))
  if (Math.min(...built) > newest('src')) return
  execFileSync('npm', ['run', '--silent', 'build:lib'], { stdio: ['ignore', 'ignore', 'inherit'] })
}
