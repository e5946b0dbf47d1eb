// Reading the READMEs' and the docs pages' tables, headings and code, for the
// tests that hold them to the code and to each other. Everything but codeBlocks
// skips fenced code, so that a `# comment` in a shell block is not a heading.
import { readdirSync } from 'node:fs'

/** The lines of the text, each with whether it is inside a fenced code block (fences included). */
function lines(text: string): { line: string; fenced: boolean }[] {
  let fenced = false
  return text.split('\n').map((line) => {
    if (line.startsWith('```')) {
      fenced = !fenced
      return { line, fenced: true }
    }
    return { line, fenced }
  })
}

/** The text without its fenced code blocks. */
export function prose(text: string): string {
  return lines(text)
    .filter(({ fenced }) => !fenced)
    .map(({ line }) => line)
    .join('\n')
}

/** The headings (`## Title` lines as they stand), in order. */
export function headings(text: string): string[] {
  return prose(text)
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
}

/** The level of a heading line: 2 for `## Title`. */
export function level(heading: string): number {
  return heading.indexOf(' ')
}

/**
 * The text under the index-th heading (as headings() lists them), fences included,
 * up to the next heading of its level or higher; with `own`, up to the next heading of
 * any level (the section's text without its subsections).
 */
export function sectionAt(text: string, index: number, own = false): string {
  const all = lines(text)
  const starts = all.flatMap(({ line, fenced }, at) =>
    !fenced && /^#{1,6} /.test(line) ? [{ at, level: level(line) }] : [],
  )
  const start = starts[index]
  if (!start) throw new Error(`no heading number ${index}`)
  const end = starts.slice(index + 1).find((next) => own || next.level <= start.level)
  return all
    .slice(start.at, end?.at)
    .map(({ line }) => line)
    .join('\n')
}

/** The text of the section under `heading` (a line as it stands), up to the next heading of its level or higher. */
export function section(text: string, heading: string): string {
  const index = headings(text).indexOf(heading)
  if (index < 0) throw new Error(`no section "${heading}"`)
  return sectionAt(text, index)
}

/** The cells of a table line. */
function cells(line: string): string[] {
  return line
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim())
}

/** Every table in the text, in order: its header cells and its rows of cells. */
export function tables(text: string): { header: string[]; rows: string[][] }[] {
  const found: { header: string[]; rows: string[][] }[] = []
  const all = prose(text).split('\n')
  for (let at = 0; at < all.length; at++) {
    if (!all[at]?.startsWith('|') || !/^\|[\s:|-]+\|$/.test(all[at + 1] ?? '')) continue
    const header = cells(all[at] ?? '')
    const rows: string[][] = []
    for (at += 2; all[at]?.startsWith('|'); at++) rows.push(cells(all[at] ?? ''))
    found.push({ header, rows })
  }
  return found
}

/** The rows of the markdown table whose header starts with `| first |`. */
export function tableRows(text: string, first: string): string[][] {
  const table = tables(text).find(({ header }) => header[0] === first)
  if (!table) throw new Error(`no table starting with "${first}"`)
  return table.rows
}

/** The inline code spans (`code`) of the text outside fenced blocks; a span may wrap, as a space. */
export function codeSpans(text: string): string[] {
  return [...prose(text).matchAll(/(?<!`)(`+)(?!`)((?:(?!\n\s*\n)[\s\S])+?)(?<!`)\1(?!`)/g)].map(
    (match) => match[2]?.replace(/\s+/g, ' ').trim() ?? '',
  )
}

/** The fenced code blocks of the text: the info string (`sh`) and the body. */
export function codeBlocks(text: string): { lang: string; body: string }[] {
  return [...text.matchAll(/^```(\S*)\n([\s\S]*?)^```$/gm)].map((match) => ({
    lang: match[1] ?? '',
    body: match[2] ?? '',
  }))
}

/**
 * A code block's body without its comments (`# …` in sh and toml, `// …` in ts and js,
 * whole lines or after code) and trailing blanks: what must stay the same in a translation.
 */
export function withoutComments({ lang, body }: { lang: string; body: string }): string {
  const comment = ['ts', 'js'].includes(lang) ? /(^|\s)\/\/\s.*$/ : /(^|\s)#\s.*$/
  return body
    .split('\n')
    .map((line) => line.replace(comment, '').trimEnd())
    .filter((line) => line !== '')
    .join('\n')
}

/** The pages of the docs site under `dir` (docs/en or docs), as paths below it (`guide/install.md`). */
export function pagesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.md') && !path.startsWith('en/') && !path.startsWith('.'))
    .map((path) => path.replaceAll('\\', '/'))
    .sort()
}

/** Each page of the docs site, English (docs/en/) and Chinese (docs/) under the same path. */
export const PAGES = pagesUnder('docs/en')
