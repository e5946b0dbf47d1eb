// Reading the README's tables, for the tests that hold them to the code.

/** The rows of the markdown table whose header starts with `| first |`. */
export function tableRows(text: string, first: string): string[][] {
  const lines = text.split('\n')
  const start = lines.findIndex((line) => new RegExp(`^\\|\\s*${first}\\s*\\|`).test(line))
  if (start < 0) throw new Error(`no table starting with "${first}"`)
  const rows: string[][] = []
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
  }
  return rows
}

/** The text of the section under `heading` (a line as it stands), up to the next heading of its level. */
export function section(text: string, heading: string): string {
  const start = text.indexOf(`\n${heading}\n`)
  if (start < 0) throw new Error(`no section "${heading}"`)
  const level = heading.split(' ')[0]
  const next = text.indexOf(`\n${level} `, start + heading.length + 2)
  return text.slice(start, next < 0 ? undefined : next)
}
