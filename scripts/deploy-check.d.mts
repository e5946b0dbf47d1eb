/** The placeholders wrangler.toml ships with. */
export const PLACEHOLDERS: { domain: RegExp; kvId: RegExp; appId: string }
export const MIN_COMPATIBILITY_DATE: string
/** What is wrong with a wrangler configuration for a deploy, one line each; empty when it may deploy. */
export function deployProblems(config: Record<string, unknown>, where: string): string[]
/** Reads `configPath` for `env` as wrangler deploys it, and checks it. */
export function checkDeploy(options?: { configPath?: string; env?: string }): Promise<string[]>
