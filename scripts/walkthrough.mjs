// Runs the README's curl walkthrough verbatim against `npm run dev`, so the
// README cannot drift from what the Worker does, and the post-deploy smoke test
// of the docs' Deploy page (docs/en/operations/deploy.md). Part of `npm test`. Only the
// port changes (a free one, given as `npm run dev -- --port N --inspector-port M`
// would give it), so that several checkouts can test at once.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { startDevServer } from './dev-server.mjs'

/**
 * @param {string} file
 * @param {string} name
 */
const block = (file, name) => {
  const text = readFileSync(file, 'utf8')
  const found = new RegExp(`<!-- ${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(text)?.[1]
  if (!found) throw new Error(`${file} has no <!-- ${name} --> sh block`)
  return found
}
const script = block('README.md', 'walkthrough')
// The post-deploy smoke test of "Deploy", with the dev Worker for the deployed one.
const smoke = block('docs/en/operations/deploy.md', 'smoke')

const { base, log, stop } = await startDevServer({ flags: true })
try {
  const verbatim = script.replaceAll('http://127.0.0.1:8787', base)
  const output = execFileSync('bash', ['-euo', 'pipefail', '-c', verbatim], { encoding: 'utf8' })
  const expected = [
    '"openid":"alice"',
    '{"data":{"nickName":"Alice"}}',
    '"purePhoneNumber":"13800138000"',
    '{"ok":true}',
    '"code":"SESSION_EXPIRED"',
  ]
  let at = 0
  for (const text of expected) {
    const found = output.indexOf(text, at)
    if (found < 0) throw new Error(`walkthrough output lacks ${text} (in order):\n${output}`)
    at = found + text.length
  }
  // `❓ Your types might be out of date` included: worker-configuration.d.ts must match.
  if (/error|warn|out of date/i.test(log().replace(/SESSION_EXPIRED|401 Unauthorized/g, ''))) {
    throw new Error(`wrangler dev printed errors or warnings:\n${log()}`)
  }
  const checked = execFileSync(
    'bash',
    ['-euo', 'pipefail', '-c', smoke.replaceAll('https://auth.example.com', base)],
    { encoding: 'utf8' },
  )
  // /readyz: with an audit log (DB bound), how many records this isolate lost.
  if (
    !/^\{"ok":true\}\{"ok":true(,"audit":\{"lost":0\})?\}\{"error":\{"code":"CODE_INVALID"/.test(
      checked,
    )
  ) {
    throw new Error(`the smoke test of "Deploy" answered otherwise:\n${checked}`)
  }
  console.log('walkthrough: 2 passed, 0 failed')
} finally {
  stop()
}
