// The docs' wrangler.toml snippets hold what a Worker needs to run
// wxa-auth, since a pasted snippet is where a new user's config comes from:
// an environment repeats its [vars] (wrangler inherits none), the
// compatibility date allows JS RPC, the session objects are SQLite-backed.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { RPC_COMPATIBILITY_DATE } from '../../src/runtime/cloudflare/authority'
import { codeBlocks, PAGES } from './markdown'

/** Each language's docs: its README and the pages of the site, and the page that says how to install. */
const languages = (
  [
    ['English', 'README.md', 'docs/en/'],
    ['Chinese', 'README.zh-CN.md', 'docs/'],
  ] as const
).map(([language, readme, dir]) => {
  const files = [readme, ...PAGES.map((page) => `${dir}${page}`)]
  return [
    language,
    files.map((file) => readFileSync(file, 'utf8')).join('\n\n'),
    readFileSync(`${dir}guide/install.md`, 'utf8'),
  ] as const
})

describe.each(languages)(
  'the wrangler.toml snippets of the %s docs',
  (_language, text, install) => {
    const snippets = codeBlocks(text)
      .filter(({ lang }) => lang === 'toml')
      .map(({ body }) => body)

    it('repeat [vars] with WECHAT_APP_ID in every environment they open', () => {
      const opened = snippets.flatMap((body) =>
        [...body.matchAll(/^\[env\.([\w-]+)\]$/gm)].map((match) => ({ env: match[1], body })),
      )
      expect(opened.length).toBeGreaterThan(0)
      for (const { env, body } of opened) {
        const vars = new RegExp(
          `^\\[env\\.${env}\\.vars\\][^\\n]*\\n(?:[^\\[][^\\n]*\\n)*?WECHAT_APP_ID = `,
          'm',
        )
        expect(body, `[env.${env}]`).toMatch(vars)
      }
    })

    it(`date the Worker ${RPC_COMPATIBILITY_DATE} or later, and make UserSessions SQLite-backed`, () => {
      const dates = snippets.flatMap((body) => [
        ...body.matchAll(/compatibility_date = "([\d-]+)"/g),
      ])
      expect(dates.length).toBeGreaterThan(0)
      for (const [, date = ''] of dates) expect(date >= RPC_COMPATIBILITY_DATE, date).toBe(true)
      for (const body of snippets) {
        expect(body).not.toMatch(/^new_classes/m)
        if (body.includes('"UserSessions"'))
          expect(body).toMatch(/new_sqlite_classes = \[[^\]]*"UserSessions"/)
      }
    })

    it('say the minimum next to the snippet, on the install page', () => {
      expect(install).toContain(RPC_COMPATIBILITY_DATE)
      expect(install).toContain('new_sqlite_classes')
      expect(install).toMatch(
        new RegExp(`compatibility_date = "[\\d-]+" # [^\\n]*${RPC_COMPATIBILITY_DATE}`),
      )
    })
  },
)
