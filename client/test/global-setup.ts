// Starts the real Worker with the WeChat emulator (`npm run dev` on a free
// port) once for the client SDK tests; they reach it over HTTP as a mini
// program would. Every 2xx JSON answer they get is recorded, and at the end
// each is checked against its route's answer in the Worker's /openapi.json:
// the document cannot drift from what the routes answer.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { TestProject } from 'vitest/node'
import { startDevServer } from '../../scripts/dev-server.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string
    /** Where the tests append the 2xx JSON answers they got, one JSON line each. */
    answersFile: string
  }
}

/** A 2xx answer as recorded: method, path (no query), status, body. */
export interface RecordedAnswer {
  method: string
  path: string
  status: number
  body: unknown
}

/** Appends `answer` to the record (from any test worker). */
export function recordAnswer(file: string, answer: RecordedAnswer) {
  appendFileSync(file, `${JSON.stringify(answer)}\n`)
}

type Doc = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
  >
}

/** Checks each recorded answer against its route's 200 schema; the mismatches, and how many matched. */
export function checkAnswers(doc: Doc, answers: RecordedAnswer[]) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
  const routes = Object.keys(doc.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`),
  }))
  const failures: string[] = []
  let checked = 0
  for (const answer of answers) {
    const route = routes.find((r) => r.pattern.test(answer.path))
    const schema =
      route &&
      doc.paths[route.template]?.[answer.method.toLowerCase()]?.responses['200']?.content?.[
        'application/json'
      ]?.schema
    if (!schema) continue
    checked++
    const validate = ajv.compile(schema)
    if (!validate(answer.body)) {
      failures.push(
        `${answer.method} ${answer.path}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(answer.body).slice(0, 300)}`,
      )
    }
  }
  return { failures, checked }
}

export default async function setup(project: TestProject) {
  // The playground's OA page and website come back to the page they left: its origin is the
  // allow-list; wxa-auth/web's test (test/http/web-client.test.ts) comes back to /healthz.
  const server = await startDevServer({
    args: (base) => ['--var', `WECHAT_REDIRECT_URIS:${base}/ ${base}/healthz`],
  })
  const dir = mkdtempSync(join(tmpdir(), 'wxa-answers-'))
  const answersFile = join(dir, 'answers.jsonl')
  project.provide('baseUrl', server.base)
  project.provide('answersFile', answersFile)
  return async () => {
    try {
      let lines: string[] = []
      try {
        lines = readFileSync(answersFile, 'utf8').split('\n').filter(Boolean)
      } catch {}
      const doc = (await (await fetch(`${server.base}/openapi.json`)).json()) as Doc
      const { failures, checked } = checkAnswers(
        doc,
        lines.map((line) => JSON.parse(line) as RecordedAnswer),
      )
      console.log(`openapi: ${checked} answers of the HTTP tests match their route's schema`)
      if (failures.length) {
        throw new Error(`answers that /openapi.json does not describe:\n${failures.join('\n')}`)
      }
    } finally {
      server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
