/** A result file of `npm run bench` (bench/results/<version>.json), as the table reads it. */
export interface BenchResult {
  version: string
  released: boolean
  commit: string | null
  date: string
  machine: {
    cores: number
    model: string
    node: string
    loadAverage: { start: number[]; end: number[] }
  }
  goals: { verdict: 'pass' | 'miss'; goal: string }[]
  scenarios: Record<string, Record<string, unknown>>
  [more: string]: unknown
}
/** The docs' benchmark pages by language. */
export const PAGES: { zh: string; en: string }
export const START: string
export const END: string
/** Every result file of `root`, oldest version first. */
export function readResults(root?: string): BenchResult[]
/** The block of `lang` for `results`, markers included. */
export function historyBlock(results: BenchResult[], lang: 'zh' | 'en'): string
/** `page` with its block made from `results`. */
export function withHistory(page: string, results: BenchResult[], lang: 'zh' | 'en'): string
/** The pages whose block is not what the result files make. */
export function stalePages(root?: string): string[]
/** Rewrites both pages' blocks from the result files. */
export function writeHistory(root?: string): void
