// Nothing the 0.3 READMEs said is lost in the move to the docs site: each of
// their headings (test/fixtures/readme-0.3-headings.json, as `git show
// 7278af3:README.md` has them) is a heading of some page of the site in the
// same language, at whatever level the page gives it.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import old from '../fixtures/readme-0.3-headings.json'
import { headings, PAGES } from './markdown'

/** A heading's text, without its `#`s. */
const text = (heading: string) => heading.replace(/^#+ /, '')

describe.each([
  ['README.md', 'docs/en/'],
  ['README.zh-CN.md', 'docs/'],
] as const)('the headings of the 0.3 %s', (readme, docs) => {
  const site = new Set(
    PAGES.flatMap((page) => headings(readFileSync(`${docs}${page}`, 'utf8')).map(text)),
  )

  it('are all headings of the docs site', () => {
    const listed = old[readme]
    expect(listed.length).toBeGreaterThan(40)
    expect(listed.map(text).filter((heading) => !site.has(heading))).toEqual([])
  })
})
