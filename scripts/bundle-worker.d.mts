/** A Worker entry bundled in memory as wrangler would bundle it: the module's text. */
export function bundleWorker(entry: string): Promise<string>
