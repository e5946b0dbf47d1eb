// Headless Chromium for the browser tests: Debian's package, which .ci/run
// installs, driven by playwright-core. Outside CI a machine without it skips
// the tests that need it, saying so; in CI its absence fails the run.
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'

/** Whether Chromium is there; throws in CI when it is not, warns (naming `what`) elsewhere. */
export function chromiumAvailable(what: string): boolean {
  const available = existsSync(CHROMIUM)
  if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it`)
  if (!available) console.warn(`${what} skipped: no ${CHROMIUM} (apt-get install chromium)`)
  return available
}

/** Starts headless Chromium without its own traffic (updates, sync, component downloads). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
