// Every project's setup file: what a test logs with console.warn or
// console.error (wxa-auth's default `log`, inside the Worker and its objects
// too) is held back while the test runs, and printed only when the test
// fails. A passing run reads clean; a failing test still shows its log. A
// test that spies on console itself (vi.spyOn) sees every call first.
import { afterEach, beforeEach } from 'vitest'

type Level = 'warn' | 'error'
const LEVELS: Level[] = ['warn', 'error']
const original = { warn: console.warn, error: console.error }
let held: [Level, unknown[]][] | null = null

for (const level of LEVELS) {
  console[level] = (...args: unknown[]) => {
    if (held) held.push([level, args])
    else original[level](...args)
  }
}

beforeEach(({ onTestFailed }) => {
  const lines: [Level, unknown[]][] = []
  held = lines
  onTestFailed(() => {
    for (const [level, args] of lines) original[level](...args)
  })
})

afterEach(() => {
  held = null
})
