// Starts the real Worker with the WeChat emulator (`npm run dev` on a free
// port) once for the client SDK tests; they reach it over HTTP as a mini
// program would.
import type { TestProject } from 'vitest/node'
import { startDevServer } from '../../scripts/dev-server.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string
  }
}

export default async function setup(project: TestProject) {
  const server = await startDevServer()
  project.provide('baseUrl', server.base)
  return () => server.stop()
}
