// The benchmark page's table of versions is made from the result files that
// `npm run bench` writes (bench/results/<version>.json): both languages'
// pages must show what the files hold, and every file what the table needs.
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { historyBlock, PAGES, readResults, stalePages, withHistory } from '../../bench/history.mjs'

describe("the benchmark page's versions side by side", () => {
  it('is made from bench/results/*.json in both languages (node bench/history.mjs)', () => {
    expect(stalePages()).toEqual([])
  })

  it('would see a figure that is not in the files (the check can fail)', () => {
    const page = readFileSync(PAGES.en, 'utf8')
    const results = readResults()
    const edited = page.replace(/\$(\d+\.\d\d) \(/, '$$99.$1 (')
    expect(edited).not.toBe(page)
    expect(withHistory(edited, results, 'en')).not.toBe(edited)
    expect(historyBlock([], 'en')).not.toContain(results[0]?.version ?? 'none')
  })

  it('has one file per version, named by it, with the date, the machine and every goal', () => {
    const names = readdirSync('bench/results').filter((name) => name.endsWith('.json'))
    expect(names.length).toBeGreaterThan(0)
    for (const name of names) {
      const result = JSON.parse(readFileSync(`bench/results/${name}`, 'utf8'))
      expect(name).toBe(`${result.version}.json`)
      expect(Number.isNaN(Date.parse(result.date))).toBe(false)
      expect(result.machine).toEqual({
        cores: expect.any(Number),
        model: expect.any(String),
        node: expect.stringMatching(/^v\d+/),
        loadAverage: { start: expect.any(Array), end: expect.any(Array) },
      })
      expect(result.goals.length).toBeGreaterThan(0)
      for (const goal of result.goals) expect(['pass', 'miss']).toContain(goal.verdict)
      expect(result.scenarios.returning.dollarsPerMillion.median).toEqual(expect.any(Number))
    }
  })
})
